"""Contact request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Title = Annotated[str, Field(max_length=1_000)]


class ClassifyRequest(BaseModel):
    """Job titles to classify; nothing is stored."""

    model_config = ConfigDict(extra="forbid")

    titles: list[Title | None] = Field(min_length=1, max_length=10_000)


class TitleClassOut(BaseModel):
    """What one title says."""

    title: str | None
    seniority: str | None = Field(
        description="c_level, vp, director, manager or individual; null when the title says "
        "nothing about it"
    )
    function: str = Field(
        description="executive, engineering, it, product, design, data, marketing, sales, "
        "customer_success, finance, operations, hr, legal or other"
    )


class ClassifyResponse(BaseModel):
    """One result per title, in the order given."""

    results: list[TitleClassOut]


class ContactOut(BaseModel):
    """One contact, as synced from its CRM, with what its title says."""

    id: int
    connection_id: uuid.UUID
    external_id: str
    account_external_ids: list[str] = Field(description="the CRM ids of its companies")
    name: str | None
    email_domain: str | None
    title: str | None
    department: str | None
    buying_role: str | None = Field(description="the CRM's explicit role, where it has one")
    seniority: str | None
    function: str
    personas: list[str] = Field(description="the active ICP's personas this contact matches")
    crm_updated_at: datetime | None


class ContactPage(BaseModel):
    """A page of contacts by id; pass ``next_cursor`` back for the next one."""

    items: list[ContactOut]
    next_cursor: str | None = None
