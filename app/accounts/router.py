"""Account endpoints: list, detail, CSV import."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse

from app.accounts import service
from app.accounts.repository import AccountFilters
from app.accounts.schemas import (
    AccountDetailOut,
    AccountPage,
    AccountStats,
    AccountSummary,
    CriterionOut,
    CurrentScore,
    HistoryEntry,
    IcpRef,
    ImportReportOut,
)
from app.apikeys.auth import ReadKey, WriteKey
from app.core.errors import UnsupportedMediaType
from app.core.http import SessionDep
from app.models import Account, AccountScore

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])

# Account ids are PostgreSQL bigints: anything outside is no account (422, not a 500).
AccountId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the account's id")]
CSV_MEDIA_TYPES = {"text/csv", "application/csv", "text/plain", "application/octet-stream"}


def _summary(account: Account, score: AccountScore | None) -> AccountSummary:
    verdict = (
        {
            "score": score.score,
            "tier": score.tier,
            "is_mql": score.is_mql,
            "is_sql": score.is_sql,
            "excluded": score.excluded,
            "coverage": round(score.coverage, 4),
            "reasons": score.reasons,
            "scored_at": score.scored_at,
        }
        if score
        else {}
    )
    return AccountSummary(
        id=account.id,
        connection_id=account.connection_id,
        external_id=account.external_id,
        name=account.name,
        domain=account.domain,
        archived=account.archived,
        updated_at=account.updated_at,
        **verdict,
    )


def account_query(
    tier: Annotated[str | None, Query(description="A, B, C or D")] = None,
    is_mql: bool | None = None,
    is_sql: bool | None = None,
    connection_id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(max_length=200, description="in name or domain")] = None,
) -> AccountFilters:
    """The list's filters, as the list and its CSV export take them."""
    return AccountFilters(
        tier=service.parse_tier(tier),
        is_mql=is_mql,
        is_sql=is_sql,
        connection_id=connection_id,
        q=q,
    )


Filters = Annotated[AccountFilters, Depends(account_query)]
Sort = Annotated[
    str,
    Query(description="id, score, name or updated_at; '-' before it: descending"),
]


@router.get("", response_model=AccountPage)
async def list_accounts(
    session: SessionDep,
    _: ReadKey,
    filters: Filters,
    sort: Sort = "id",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> AccountPage:
    """Accounts with their verdicts, filtered, sorted, in stable pages."""
    rows, next_cursor = await service.list_accounts(
        session, filters=filters, sort=sort, cursor=cursor, limit=limit
    )
    return AccountPage(items=[_summary(a, s) for a, s in rows], next_cursor=next_cursor)


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def export_accounts(
    request: Request, _: ReadKey, filters: Filters, sort: Sort = "id"
) -> StreamingResponse:
    """The list, with the same filters and sort, as CSV (its columns are the list items'),
    streamed: a million rows never sit in memory."""
    return StreamingResponse(
        service.export_accounts_csv(
            request.app.state.database, filters=filters, sort=service.parse_sort(sort)
        ),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="accounts.csv"'},
    )


@router.get("/stats", response_model=AccountStats)
async def account_stats(
    session: SessionDep, _: ReadKey, connection_id: uuid.UUID | None = None
) -> AccountStats:
    """How many live accounts, scored, per tier, MQL, SQL, excluded, and mean coverage."""
    return AccountStats.model_validate(
        await service.account_stats(session, connection_id=connection_id)
    )


@router.post(
    "/import",
    response_model=ImportReportOut,
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def import_accounts(request: Request, session: SessionDep, _: WriteKey) -> ImportReportOut:
    """Import a CSV export (canonical column names, ``attributes.<name>`` for the rest)."""
    media_type = request.headers.get("content-type", "text/csv").split(";")[0].strip().lower()
    if media_type not in CSV_MEDIA_TYPES:
        raise UnsupportedMediaType(f"send the file as text/csv, not {media_type!r}")
    report = await service.import_accounts_csv(session, content=await request.body())
    return ImportReportOut.model_validate(dataclasses.asdict(report))


@router.get("/{account_id}", response_model=AccountDetailOut)
async def get_account(account_id: AccountId, session: SessionDep, _: ReadKey) -> AccountDetailOut:
    """One account: data, the standing verdict with its breakdown, and its history."""
    detail = await service.get_account(session, account_id=account_id)
    current = None
    if detail.score and detail.version and detail.result:
        breakdown = detail.result.as_dict()
        current = CurrentScore(
            icp=IcpRef(
                id=detail.version.id, name=detail.version.name, version=detail.version.version
            ),
            score=detail.score.score,
            tier=detail.score.tier,
            is_mql=detail.score.is_mql,
            is_sql=detail.score.is_sql,
            excluded=detail.score.excluded,
            coverage=round(detail.score.coverage, 4),
            reasons=detail.score.reasons,
            scored_at=detail.score.scored_at,
            criteria=[CriterionOut.model_validate(c) for c in breakdown["criteria"]],
            exclusions=[CriterionOut.model_validate(c) for c in breakdown.get("exclusions", [])],
        )
    return AccountDetailOut(
        account=_summary(detail.account, detail.score),
        data=detail.account.data,
        current_score=current,
        history=[HistoryEntry.model_validate(h, from_attributes=True) for h in detail.history],
        deals=detail.deals,
        contacts=detail.contacts,
        personas=detail.personas,
    )
