"""The pipelines of a portal, as data: deals' default "Sales Pipeline" with HubSpot's default
stages, a custom "Enterprise" deal pipeline (custom pipelines and stages get numeric ids, as in
HubSpot), and the tickets' default "Support Pipeline".

``metadata`` values are strings (``"isClosed": "true"``, ``"probability": "0.2"``) because that is
what HubSpot sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from connectors.sandbox.common.demo_data import DEAL_OPEN_STAGES

__all__ = [
    "ENTERPRISE_PIPELINE_ID",
    "PIPELINES",
    "PIPELINES_CREATED_MS",
    "Pipeline",
    "Stage",
    "deal_stage",
    "render_pipeline",
    "render_pipeline_v1",
    "render_stage",
]

PIPELINES_CREATED_AT: Final = "2020-01-01T00:00:00.000Z"
PIPELINES_CREATED_MS: Final = 1_577_836_800_000  # the same instant, as the v1 API writes it


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage of a pipeline."""

    id: str
    label: str
    metadata: tuple[tuple[str, str], ...]

    @property
    def probability(self) -> str | None:
        """The win probability HubSpot gives deals in this stage, as it sends it."""
        return dict(self.metadata).get("probability")


@dataclass(frozen=True, slots=True)
class Pipeline:
    """One pipeline: its id, label and ordered stages."""

    id: str
    label: str
    stages: tuple[Stage, ...]


def _deal_stage(stage_id: str, label: str, probability: str) -> Stage:
    closed = "true" if probability in ("1.0", "0.0") else "false"
    return Stage(stage_id, label, (("isClosed", closed), ("probability", probability)))


_DEFAULT_LABELS: Final = {
    "appointmentscheduled": ("Appointment Scheduled", "0.2"),
    "qualifiedtobuy": ("Qualified To Buy", "0.4"),
    "presentationscheduled": ("Presentation Scheduled", "0.6"),
    "decisionmakerboughtin": ("Decision Maker Bought-In", "0.8"),
    "contractsent": ("Contract Sent", "0.9"),
}
SALES_PIPELINE: Final = Pipeline(
    "default",
    "Sales Pipeline",
    (
        *(_deal_stage(s, *_DEFAULT_LABELS[s]) for s in DEAL_OPEN_STAGES),
        _deal_stage("closedwon", "Closed Won", "1.0"),
        _deal_stage("closedlost", "Closed Lost", "0.0"),
    ),
)
ENTERPRISE_PIPELINE_ID: Final = "14598210"
# Position by position, the enterprise stage that stands for each default one.
ENTERPRISE_PIPELINE: Final = Pipeline(
    ENTERPRISE_PIPELINE_ID,
    "Enterprise",
    (
        _deal_stage("14598211", "Discovery", "0.1"),
        _deal_stage("14598212", "Technical Validation", "0.3"),
        _deal_stage("14598213", "Business Case", "0.5"),
        _deal_stage("14598214", "Procurement & Legal", "0.7"),
        _deal_stage("14598215", "Signature", "0.9"),
        _deal_stage("14598216", "Closed Won", "1.0"),
        _deal_stage("14598217", "Closed Lost", "0.0"),
    ),
)
SUPPORT_PIPELINE: Final = Pipeline(
    "0",
    "Support Pipeline",
    tuple(
        Stage(stage_id, label, (("ticketState", state), ("isClosed", closed)))
        for stage_id, label, state, closed in (
            ("1", "New", "OPEN", "false"),
            ("2", "Waiting on contact", "OPEN", "false"),
            ("3", "Waiting on us", "OPEN", "false"),
            ("4", "Closed", "CLOSED", "true"),
        )
    ),
)
PIPELINES: Final[dict[str, tuple[Pipeline, ...]]] = {
    "deals": (SALES_PIPELINE, ENTERPRISE_PIPELINE),
    "tickets": (SUPPORT_PIPELINE,),
}
_DEFAULT_ORDER: Final = {stage.id: n for n, stage in enumerate(SALES_PIPELINE.stages)}


def deal_stage(pipeline_id: str, default_stage: str) -> Stage:
    """The stage of ``pipeline_id`` standing where ``default_stage`` stands in the default one."""
    pipeline = ENTERPRISE_PIPELINE if pipeline_id == ENTERPRISE_PIPELINE_ID else SALES_PIPELINE
    return pipeline.stages[_DEFAULT_ORDER[default_stage]]


def render_stage(stage: Stage, order: int) -> dict[str, Any]:
    """A stage as HubSpot's PipelineStage."""
    return {
        "id": stage.id,
        "label": stage.label,
        "displayOrder": order,
        "metadata": dict(stage.metadata),
        "createdAt": PIPELINES_CREATED_AT,
        "updatedAt": PIPELINES_CREATED_AT,
        "archived": False,
        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
    }


def render_pipeline(pipeline: Pipeline, order: int) -> dict[str, Any]:
    """A pipeline as HubSpot's Pipeline."""
    return {
        "id": pipeline.id,
        "label": pipeline.label,
        "displayOrder": order,
        "stages": [render_stage(s, n) for n, s in enumerate(pipeline.stages)],
        "createdAt": PIPELINES_CREATED_AT,
        "updatedAt": PIPELINES_CREATED_AT,
        "archived": False,
    }


def render_pipeline_v1(pipeline: Pipeline, order: int, object_type: str) -> dict[str, Any]:
    """A pipeline as the legacy ``/crm-pipelines/v1`` API sends it (epoch-millisecond dates,
    ``pipelineId``/``stageId``, ``active`` flags)."""
    kinds = {"deals": ("DEAL", "0-3"), "tickets": ("TICKET", "0-5")}
    kind, type_id = kinds[object_type]
    return {
        "pipelineId": pipeline.id,
        "objectType": kind,
        "objectTypeId": type_id,
        "label": pipeline.label,
        "displayOrder": order,
        "active": True,
        "default": order == 0,
        "createdAt": PIPELINES_CREATED_MS,
        "updatedAt": PIPELINES_CREATED_MS,
        "stages": [
            {
                "stageId": stage.id,
                "label": stage.label,
                "displayOrder": n,
                "metadata": dict(stage.metadata),
                "active": True,
                "createdAt": PIPELINES_CREATED_MS,
                "updatedAt": PIPELINES_CREATED_MS,
            }
            for n, stage in enumerate(pipeline.stages)
        ],
    }
