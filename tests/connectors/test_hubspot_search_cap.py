"""Incremental reads past HubSpot's 10,000-results-per-search cap."""

from __future__ import annotations

import pytest

from connectors.hubspot import HubSpotConnector
from connectors.sandbox.common.admin_client import SandboxAdmin

SEARCH = "POST /crm/v3/objects/companies/search"


@pytest.mark.slow
def test_incremental_sync_loses_no_company_at_the_10k_search_cap_even_when_interrupted(
    hubspot_admin: SandboxAdmin, connector: HubSpotConnector
) -> None:
    hubspot_admin.reset(seed=1, companies=25_000, deals_per_company=0, same_timestamp=True)
    pages = connector.read_pages(cursor={"modified_since": "2000-01-01T00:00:00Z"}, full=False)
    # Stop past the point where offset paging would hit the cap (after + limit > 10,000) ...
    done = [next(pages) for _ in range(60)]

    # ... and carry on from the last page's cursor, as a retried sync job would.
    rest = list(connector.read_pages(cursor=done[-1].cursor, full=False))

    ids = [record.external_id for page in done + rest for record in page.records]
    assert len(ids) == 25_000
    assert len(set(ids)) == 25_000
    assert connector.api_calls == 1 + 125  # the property definitions, then one search a page
    assert hubspot_admin.stats()["calls"][SEARCH] == 125  # not one refused or retried
    assert rest[-1].cursor.keys() == {"modified_since"}
