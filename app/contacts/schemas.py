"""Contact request and response bodies."""

from __future__ import annotations

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
