"""ICP health endpoint: how the active ICP is holding up (DESIGN §9, keep fresh)."""

from __future__ import annotations

from fastapi import APIRouter

from app.apikeys.auth import ReadKey
from app.core.http import SessionDep
from app.health import service
from app.health.schemas import HealthOut

router = APIRouter(prefix="/api/v1", tags=["insights"])


@router.get("/icps/active/health", response_model=HealthOut)
async def get_active_icp_health(session: SessionDep, _: ReadKey) -> HealthOut:
    """The active ICP's age and status, drift of its tiers and fields against the baseline
    taken when its activation rescore finished (PSI), fill rates, and alerts (tier
    inversions on the last 180 days of closed deals included). 404 when no ICP is active."""
    return HealthOut.model_validate(await service.icp_health(session))
