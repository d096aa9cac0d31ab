"""Contact endpoints: the synced contacts, and classifying job titles."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.apikeys.auth import ReadKey
from app.contacts import service
from app.contacts.schemas import ClassifyRequest, ClassifyResponse, ContactPage, TitleClassOut
from app.core.http import SessionDep
from app.scoring.titles import classify_title

router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"])


@router.post("/classify", response_model=ClassifyResponse)
async def classify(body: ClassifyRequest, _: ReadKey) -> ClassifyResponse:
    """Seniority and function of each job title (DESIGN §8), in input order; stores nothing."""
    results = []
    for title in body.titles:
        verdict = classify_title(title)
        results.append(
            TitleClassOut(title=title, seniority=verdict.seniority, function=verdict.function)
        )
    return ClassifyResponse(results=results)


@router.get("", response_model=ContactPage)
async def list_contacts(
    session: SessionDep,
    _: ReadKey,
    account_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    connection_id: uuid.UUID | None = None,
    persona: Annotated[
        str | None, Query(max_length=100, description="a persona id of the active ICP")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> ContactPage:
    """Live contacts by id, with their companies' CRM ids, what their titles say and the
    personas they match, filtered, in stable pages."""
    items, next_cursor = await service.list_contacts(
        session,
        account_id=account_id,
        connection_id=connection_id,
        persona=persona,
        cursor=cursor,
        limit=limit,
    )
    return ContactPage(items=items, next_cursor=next_cursor)
