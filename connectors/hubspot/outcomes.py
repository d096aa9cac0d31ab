"""HubSpot deals and contacts ⇄ DealRecord and ContactRecord (DESIGN §8).

Won and lost come from the deal pipelines' stage metadata, never from stage names or the
``hs_is_closed_won`` calculation: a stage is closed when ``metadata.isClosed`` is ``"true"``,
and won when its ``probability`` is 1 (lost when 0). Custom pipelines (numeric stage ids) work
the same way; a stage the pipelines do not list (deleted since) reads as open and unknown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from connectors import normalize
from connectors.base import ContactRecord, DealRecord, domain_of, text_value
from connectors.hubspot.mapping import MODIFIED_PROPERTY, parse_hubspot_datetime

__all__ = [
    "CONTACT_MODIFIED_PROPERTY",
    "DEAL_PROPERTIES",
    "DealStages",
    "associated_ids",
    "contact_properties",
    "contact_record",
    "deal_record",
]

log = logging.getLogger(__name__)

# Contacts keep HubSpot's older name for the modification date; every other object has
# hs_lastmodifieddate.
CONTACT_MODIFIED_PROPERTY: Final = "lastmodifieddate"
DEAL_PROPERTIES: Final = (
    "amount",
    "closedate",
    "createdate",
    "dealname",
    "dealstage",
    MODIFIED_PROPERTY,
    "pipeline",
)
_CONTACT_PROPERTIES: Final = (
    "email",
    "firstname",
    "hs_buying_role",
    "jobtitle",
    CONTACT_MODIFIED_PROPERTY,
    "lastname",
)
# HubSpot has no standard department property; many portals add one under this name. Asking
# for a property a portal lacks costs nothing: HubSpot leaves it out of the answer.
DEFAULT_DEPARTMENT_PROPERTY: Final = "department"


def contact_properties(department_property: str | None) -> list[str]:
    """The contact properties a read asks for."""
    extra = [department_property] if department_property else []
    return sorted({*_CONTACT_PROPERTIES, *extra})


@dataclass(frozen=True, slots=True)
class StageOutcome:
    """What a pipeline stage means for the deals in it."""

    is_closed: bool
    is_won: bool


@dataclass(frozen=True)
class DealStages:
    """Every deal stage of the portal, by (pipeline id, stage id) and by stage id alone
    (HubSpot's stage ids are unique in a portal; a deal's pipeline may be blank)."""

    by_pipeline: Mapping[tuple[str, str], StageOutcome]
    by_stage: Mapping[str, StageOutcome]

    @classmethod
    def from_api(cls, pipelines: Iterable[Mapping[str, Any]]) -> DealStages:
        """From ``GET /crm/v3/pipelines/deals`` results (raw JSON)."""
        by_pipeline: dict[tuple[str, str], StageOutcome] = {}
        by_stage: dict[str, StageOutcome] = {}
        for pipeline in pipelines:
            for stage in pipeline.get("stages") or []:
                metadata = stage.get("metadata") or {}
                closed = str(metadata.get("isClosed", "")).strip().lower() == "true"
                try:
                    probability = normalize.to_float(metadata.get("probability"))
                except ValueError:
                    probability = None
                outcome = StageOutcome(
                    is_closed=closed, is_won=closed and probability is not None and probability >= 1
                )
                by_pipeline[(str(pipeline.get("id")), str(stage.get("id")))] = outcome
                by_stage.setdefault(str(stage.get("id")), outcome)
        return cls(by_pipeline, by_stage)

    def outcome(self, pipeline: str | None, stage: str | None) -> StageOutcome | None:
        """The stage's outcome, or None when the portal has no such stage."""
        if stage is None:
            return None
        if pipeline is not None and (pipeline, stage) in self.by_pipeline:
            return self.by_pipeline[(pipeline, stage)]
        return self.by_stage.get(stage)


def associated_ids(item: Mapping[str, Any], object_type: str) -> list[str] | None:
    """The ids of ``object_type`` records a record lists inline (``?associations=``), in the
    order given, once each; None when the list is cut short (more pages to read)."""
    listed = (item.get("associations") or {}).get(object_type) or {}
    if listed.get("paging"):
        return None
    # HubSpot lists a link once per association type (primary, unlabeled, ...).
    return list(dict.fromkeys(str(link["id"]) for link in listed.get("results") or []))


def _datetime(record_id: str, name: str, value: Any) -> datetime | None:
    try:
        return parse_hubspot_datetime(value)
    except ValueError:
        log.debug("HubSpot record %s: %s=%r is not a datetime", record_id, name, value)
        return None


def deal_record(
    item: Mapping[str, Any], company_ids: Sequence[str], stages: DealStages
) -> DealRecord:
    """One deal (raw JSON) with the companies it is associated to."""
    external_id = str(item["id"])
    props: Mapping[str, Any] = normalize.without_nul(dict(item.get("properties") or {}))
    pipeline, stage = text_value(props.get("pipeline")), text_value(props.get("dealstage"))
    outcome = stages.outcome(pipeline, stage)
    try:
        amount = normalize.to_float(props.get("amount"))
    except ValueError:
        amount = None
    is_closed = outcome is not None and outcome.is_closed
    return DealRecord(
        external_id=external_id,
        account_external_ids=list(company_ids),
        name=text_value(props.get("dealname")),
        pipeline=pipeline,
        stage=stage,
        is_closed=is_closed,
        is_won=outcome is not None and outcome.is_won,
        amount=amount,
        created_at=_datetime(external_id, "createdate", props.get("createdate")),
        # An open deal's closedate is only the date it is expected to close.
        closed_at=_datetime(external_id, "closedate", props.get("closedate"))
        if is_closed
        else None,
        crm_updated_at=_datetime(external_id, MODIFIED_PROPERTY, props.get(MODIFIED_PROPERTY)),
        archived=bool(item.get("archived")),
        stage_known=outcome is not None,
    )


def _email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return domain_of(email.rsplit("@", 1)[1])


def contact_record(
    item: Mapping[str, Any], company_ids: Sequence[str], *, department_property: str | None
) -> ContactRecord:
    """One contact (raw JSON) with the companies it is associated to. ``hs_buying_role``
    is passed on as HubSpot sends it: option codes, ``;``-separated when there are several."""
    external_id = str(item["id"])
    props: Mapping[str, Any] = normalize.without_nul(dict(item.get("properties") or {}))
    name = " ".join(
        part
        for part in (text_value(props.get("firstname")), text_value(props.get("lastname")))
        if part
    )
    return ContactRecord(
        external_id=external_id,
        account_external_ids=list(company_ids),
        name=name or None,
        email_domain=_email_domain(text_value(props.get("email"))),
        title=text_value(props.get("jobtitle")),
        department=text_value(props.get(department_property)) if department_property else None,
        buying_role=text_value(props.get("hs_buying_role")),
        crm_updated_at=_datetime(
            external_id, CONTACT_MODIFIED_PROPERTY, props.get(CONTACT_MODIFIED_PROPERTY)
        ),
        archived=bool(item.get("archived")),
    )
