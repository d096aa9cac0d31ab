"""ICP endpoints: versions, activation and what-if scoring."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from app.apikeys.auth import ReadKey, WriteKey
from app.core.errors import UnsupportedMediaType
from app.core.http import SessionDep
from app.icps import service
from app.icps.schemas import (
    IcpActivationOut,
    IcpList,
    IcpOut,
    ScoreOut,
    WhatIfRequest,
    WhatIfResponse,
)

router = APIRouter(prefix="/api/v1", tags=["icps"])

DEFINITION_MEDIA_TYPES = {
    "application/json": "application/json",
    "application/yaml": "application/yaml",
    "application/x-yaml": "application/yaml",
    "text/yaml": "application/yaml",
    "text/x-yaml": "application/yaml",
}

_definition_body = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/icps",
    status_code=status.HTTP_201_CREATED,
    response_model=IcpOut,
    openapi_extra=_definition_body,
)
async def create_icp(request: Request, session: SessionDep, _: WriteKey) -> IcpOut:
    """Save an ICP definition (JSON or YAML) as a new, inactive version."""
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    content_type = DEFINITION_MEDIA_TYPES.get(media_type.lower())
    if content_type is None:
        raise UnsupportedMediaType(
            f"send the definition as application/json or application/yaml, not {media_type!r}"
        )
    version = await service.create_icp(
        session, source=await request.body(), content_type=content_type
    )
    return IcpOut.model_validate(version)


@router.get("/icps", response_model=IcpList)
async def list_icps(session: SessionDep, _: ReadKey) -> IcpList:
    """Every ICP version, newest first."""
    versions = await service.list_icps(session)
    return IcpList(items=[IcpOut.model_validate(v) for v in versions])


@router.get("/icps/active", response_model=IcpOut)
async def get_active_icp(session: SessionDep, _: ReadKey) -> IcpOut:
    """The active ICP version."""
    return IcpOut.model_validate(await service.get_active_icp(session))


@router.get("/icps/{icp_id}", response_model=IcpOut)
async def get_icp(icp_id: uuid.UUID, session: SessionDep, _: ReadKey) -> IcpOut:
    """One ICP version."""
    return IcpOut.model_validate(await service.get_icp(session, icp_id=icp_id))


@router.post("/icps/{icp_id}/activate", response_model=IcpActivationOut)
async def activate_icp(icp_id: uuid.UUID, session: SessionDep, _: WriteKey) -> IcpActivationOut:
    """Activate a version; the previous one retires and every account is rescored by the job
    ``rescore_job_id`` (follow it at ``GET /api/v1/jobs/{id}``)."""
    activation = await service.activate_icp(session, icp_id=icp_id)
    out = IcpOut.model_validate(activation.version)
    return IcpActivationOut(**out.model_dump(), rescore_job_id=activation.rescore_job_id)


@router.post("/score", response_model=WhatIfResponse)
async def score(body: WhatIfRequest, session: SessionDep, _: ReadKey) -> WhatIfResponse:
    """What-if: score accounts against an ICP (default: the active one); stores nothing."""
    version, results = await service.what_if(
        session, accounts=[a.scoring_view() for a in body.accounts], icp_id=body.icp_id
    )
    return WhatIfResponse(
        icp_id=version.id, results=[ScoreOut.model_validate(r.as_dict()) for r in results]
    )
