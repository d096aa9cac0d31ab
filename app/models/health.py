"""ICP health (DESIGN §9, keep fresh): each version's baseline, and its latest daily check."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class IcpBaseline(Base):
    """What the population looked like once a version's activation rescore finished: the tier
    distribution and, per field its criteria read, the bins used and the counts in them.
    Drift is measured against it; a version activated again gets a new one."""

    __tablename__ = "icp_baselines"

    icp_version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("icp_versions.id", ondelete="CASCADE"), primary_key=True
    )
    taken_at: Mapped[datetime]
    accounts: Mapped[int]
    # {"A": n, "B": n, "C": n, "D": n}
    tiers: Mapped[dict[str, Any]]
    # {field: {"kind", "bins", "total", "known", "counts"}} (app.science.drift)
    fields: Mapped[dict[str, Any]]


class IcpHealthCheck(Base):
    """The latest daily health check of a version: what it found, and which alerts were
    standing (an alert is announced when its key first appears here)."""

    __tablename__ = "icp_health_checks"

    icp_version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("icp_versions.id", ondelete="CASCADE"), primary_key=True
    )
    checked_at: Mapped[datetime]
    report: Mapped[dict[str, Any]]
    alert_keys: Mapped[list[str]] = mapped_column(ARRAY(Text))
