"""What the API says about a queued job."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class JobOut(BaseModel):
    """One job of the queue: what it runs, where it is, and when it moved."""

    id: int
    task: str = Field(description="the task's registered name, e.g. accounts.rescore_all")
    status: str = Field(description="todo, doing, succeeded, failed, cancelled or aborted")
    attempts: int = Field(description="runs started so far (a retry is another attempt)")
    queued_at: datetime | None = None
    started_at: datetime | None = Field(default=None, description="the latest attempt's start")
    finished_at: datetime | None = None
