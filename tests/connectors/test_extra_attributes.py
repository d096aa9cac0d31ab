"""extra_properties: CRM properties read into attributes, named as the CRM does or renamed."""

from __future__ import annotations

from connectors.base import extra_attribute_sources


def test_a_list_keeps_the_crm_names():
    assert extra_attribute_sources(["Has_SEO__c", "Is_Competitor__c"]) == {
        "Has_SEO__c": "Has_SEO__c",
        "Is_Competitor__c": "Is_Competitor__c",
    }


def test_a_mapping_renames_so_one_icp_reads_every_crm():
    assert extra_attribute_sources({"has_inhouse_seo": "Has_SEO__c"}) == {
        "has_inhouse_seo": "Has_SEO__c"
    }


def test_nothing_configured_reads_nothing():
    assert extra_attribute_sources(None) == {}
    assert extra_attribute_sources([]) == {}


def test_the_hubspot_mapping_renames_attributes(make_connector, hubspot_admin):
    connector = make_connector(
        settings={"extra_properties": {"seo_team": "has_inhouse_seo"}},
    )
    records = [r for page in connector.read_pages(cursor=None, full=True) for r in page.records]
    assert records
    assert all(set(r.fields["attributes"]) <= {"seo_team"} for r in records)
    assert any("seo_team" in r.fields["attributes"] for r in records)
