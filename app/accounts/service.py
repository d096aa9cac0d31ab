"""Account rules: import, scoring of stored accounts, rescoring, reading verdicts."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.repository import AccountFilters, AccountRepository, UpsertedAccount
from app.connections.repository import ConnectionRepository
from app.contacts.repository import ContactRepository
from app.contacts.schemas import ContactOut
from app.contacts.service import list_contacts, store_contacts
from app.core.cursors import decode_cursor, encode_cursor
from app.core.db import Database
from app.core.errors import BadRequest, NotFound, ValidationFailed, problem
from app.deals.repository import DealFilters, DealRepository
from app.deals.schemas import DealOut
from app.deals.service import list_deals, store_deals
from app.icps.repository import IcpRepository
from app.icps.service import compiled_icp
from app.models import Account, AccountScore, AccountScoreHistory, IcpVersion
from app.scoring import CompiledIcp, ScoreResult, score_account
from app.scoring.definition import DEAL_ROLLUP_FIELDS, PERSONA_PREFIX, Persona, reads_rollups
from app.scoring.personas import ContactView, PersonaMatcher
from app.verdicts.service import VerdictCounts, score_rows, store_verdicts
from connectors.base import AccountRecord, CanonicalAccount, ContactRecord, DealRecord
from connectors.normalize import without_nul

CANONICAL_COLUMNS = frozenset(CanonicalAccount.model_fields) - {"attributes"}
ATTRIBUTE_PREFIX = "attributes."


@dataclass(slots=True)
class ImportReport:
    """What an import did, with every refused row by line number."""

    imported: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    scored: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)


async def with_rollups(
    session: AsyncSession,
    compiled: CompiledIcp,
    accounts: Sequence[tuple[int, dict[str, Any]]],
    *,
    include_deals: bool = True,
) -> Sequence[tuple[int, dict[str, Any]]]:
    """The accounts' data with the deal (unless not ``include_deals``: the caller has them) and
    contact roll-ups the ICP reads (nothing read, nothing added). A roll-up the CRM
    connection has not synced yet keeps what the account's own data says (a CSV column,
    HubSpot's open deal count), else stays unknown."""
    deal_fields = compiled.read_fields & DEAL_ROLLUP_FIELDS if include_deals else frozenset()
    _, people = reads_rollups(compiled.read_fields)
    if not (deal_fields or people) or not accounts:
        return accounts
    ids = [account_id for account_id, _ in accounts]
    deals = await DealRepository(session).rollups(ids, deal_fields) if deal_fields else {}
    # Only the personas the ICP reads are counted: matching a persona's title keywords is a
    # regular expression per contact, for nothing when no criterion reads the count.
    personas = [
        p for p in compiled.definition.personas if PERSONA_PREFIX + p.id in compiled.read_fields
    ]
    people_counts = await ContactRepository(session).persona_counts(ids, personas) if people else {}
    enriched = []
    for account_id, data in accounts:
        rolled = deals.get(account_id)
        counted = people_counts.get(account_id)
        if rolled or counted:
            data = {**data, **(rolled or {}), **(counted or {})}
        enriched.append((account_id, data))
    return enriched


async def score_stored_accounts(
    session: AsyncSession,
    *,
    accounts: Sequence[tuple[int, dict[str, Any]]],
    version: IcpVersion,
    trigger: str,
) -> VerdictCounts:
    """Score (id, data) pairs, with their roll-ups, against ``version`` and store the
    verdicts in bulk."""
    compiled = compiled_icp(version)
    rows = score_rows(compiled, await with_rollups(session, compiled, accounts))
    return await store_verdicts(session, rows=rows, version=version, trigger=trigger)


async def store_outcomes(
    session: AsyncSession,
    *,
    connection_id: uuid.UUID,
    deals: Sequence[DealRecord] = (),
    contacts: Sequence[ContactRecord] = (),
    archived_deals: Sequence[str] = (),
    archived_contacts: Sequence[str] = (),
) -> int:
    """Store synced deals and contacts (and archive those the CRM deleted, by CRM id), and
    rescore the stored accounts whose deals or people they change; returns how many accounts
    were rescored. Until a connection's deals (contacts) have been read in full once, storing
    them rescores nothing: the first full read ends by rescoring every account
    (``mark_outcomes_read``)."""
    by_deals = await store_deals(session, connection_id=connection_id, deals=deals)
    by_deals |= await DealRepository(session).archive(connection_id, archived_deals)
    by_contacts = await store_contacts(session, connection_id=connection_id, contacts=contacts)
    by_contacts |= await ContactRepository(session).archive(connection_id, archived_contacts)
    # Until a connection's deals (contacts) have been read in full once, their roll-ups are
    # unknown: a rescore would change no verdict, and that first read ends by rescoring all.
    connection = await ConnectionRepository(session).get(connection_id)
    touched: set[str] = set()
    if connection is not None and connection.deals_synced_at is not None:
        touched |= by_deals
    if connection is not None and connection.contacts_synced_at is not None:
        touched |= by_contacts
    return await rescore_linked_accounts(session, connection_id=connection_id, external_ids=touched)


async def rescore_linked_accounts(
    session: AsyncSession, *, connection_id: uuid.UUID, external_ids: set[str]
) -> int:
    """Rescore a connection's stored accounts by CRM id (their deals or people changed) with
    the active ICP; companies not stored yet are skipped (they are scored when they arrive).
    Returns how many were scored."""
    version = await IcpRepository(session).get_active()
    if version is None or not external_ids:
        return 0
    accounts = await AccountRepository(session).live_data_by_external_id(
        connection_id, sorted(external_ids)
    )
    if accounts:
        await score_stored_accounts(session, accounts=accounts, version=version, trigger="sync")
    return len(accounts)


async def account_profiles(
    session: AsyncSession, *, account_ids: Sequence[int], personas: Sequence[Persona]
) -> list[tuple[int, dict[str, Any]]]:
    """(id, all that is known of the account) in id order: its canonical data, with its
    contact count and persona counts where its connection's contacts were synced. What
    discovery looks for traits in."""
    rows = await AccountRepository(session).accounts_data(account_ids)
    counts = await ContactRepository(session).persona_counts(account_ids, personas)
    return [(account_id, {**data, **counts.get(account_id, {})}) for account_id, data in rows]


async def read_scoring_batch(
    session: AsyncSession,
    *,
    version: IcpVersion,
    after_id: int,
    limit: int,
    through_id: int | None = None,
) -> Sequence[tuple[int, dict[str, Any]]]:
    """The next live accounts after ``after_id`` (``limit`` of them, or all up to
    ``through_id``), with only the fields ``version`` reads (roll-ups included)."""
    compiled = compiled_icp(version)
    batch = await AccountRepository(session).scoring_batch(
        after_id=after_id, limit=limit, fields=sorted(compiled.read_fields), through_id=through_id
    )
    return await with_rollups(session, compiled, batch)


def _row_problems(error: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in error.errors()]


def parse_accounts_csv(content: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """CSV → canonical accounts; returns (good rows, failures by line number).

    Columns are canonical field names or ``attributes.<crm property>``; ``external_id``
    defaults to the domain. A file-level problem (not UTF-8, no header, unknown column)
    refuses the whole file.
    """
    try:
        text = without_nul(content.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the CSV is not UTF-8 text (byte {exc.start})") from exc
    # strict: a quote left open is an error, not a field that swallows the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ValidationFailed([problem("header", "the file is empty")]) from None
    except csv.Error as exc:
        raise BadRequest(f"malformed CSV: {exc}") from exc
    problems = [
        problem(
            f"header[{i}]",
            f"unknown column {name!r}; use a canonical field or '{ATTRIBUTE_PREFIX}<name>'",
        )
        for i, name in enumerate(header)
        if name not in CANONICAL_COLUMNS
        and not (name.startswith(ATTRIBUTE_PREFIX) and len(name) > len(ATTRIBUTE_PREFIX))
    ]
    duplicates = {name for name in header if header.count(name) > 1}
    problems += [problem("header", f"column {name!r} appears twice") for name in sorted(duplicates)]
    if "external_id" not in header and "domain" not in header:
        problems.append(problem("header", "add an 'external_id' or a 'domain' column"))
    if problems:
        raise ValidationFailed(problems)

    good: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    first_line_of: dict[str, int] = {}
    record_starts = reader.line_num + 1
    try:
        for cells in reader:
            line, record_starts = reader.line_num, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                failed.append(
                    {"line": line, "errors": [f"{len(cells)} cells, header has {len(header)}"]}
                )
                continue
            fields: dict[str, Any] = {}
            attributes: dict[str, str] = {}
            for name, cell in zip(header, cells, strict=True):
                if cell.strip() == "":
                    continue
                if name.startswith(ATTRIBUTE_PREFIX):
                    attributes[name.removeprefix(ATTRIBUTE_PREFIX)] = cell.strip()
                else:
                    fields[name] = cell
            try:
                account = CanonicalAccount(**fields, attributes=attributes)
            except ValidationError as exc:
                failed.append({"line": line, "errors": _row_problems(exc)})
                continue
            external_id = account.external_id or account.domain
            if not external_id:
                failed.append({"line": line, "errors": ["external_id or domain is required"]})
                continue
            if external_id in first_line_of:
                failed.append(
                    {
                        "line": line,
                        "errors": [
                            f"duplicate of line {first_line_of[external_id]} "
                            f"(external_id {external_id!r})"
                        ],
                    }
                )
                continue
            first_line_of[external_id] = line
            good.append(
                {
                    "external_id": external_id,
                    "data": account.scoring_view(),
                    "archived": account.archived,
                    "crm_updated_at": account.crm_updated_at,
                }
            )
    except csv.Error as exc:
        raise BadRequest(
            f"malformed CSV in the record starting at line {record_starts}: {exc}"
        ) from exc
    return good, failed


async def import_accounts_csv(session: AsyncSession, *, content: bytes) -> ImportReport:
    """Import a CSV into the built-in ``import`` connection and score it with the active ICP.
    Good rows are stored; bad rows are reported by line; a bad file stores nothing."""
    good, failed = parse_accounts_csv(content)
    report = ImportReport(failed=failed)
    if not good:
        return report
    repository = AccountRepository(session)
    connection_id = await repository.import_connection_id()
    changed = await upsert_and_score(session, connection_id=connection_id, accounts=good)
    report.imported = len(good)
    report.created = sum(1 for account in changed.accounts if account.created)
    report.updated = len(changed.accounts) - report.created
    report.unchanged = report.imported - len(changed.accounts)
    report.scored = changed.scored
    return report


@dataclass(slots=True)
class UpsertOutcome:
    """Accounts an upsert created or changed, and how many of them were scored."""

    accounts: list[UpsertedAccount]
    scored: int


async def upsert_and_score(
    session: AsyncSession, *, connection_id: uuid.UUID, accounts: Sequence[dict[str, Any]]
) -> UpsertOutcome:
    """Store accounts (``{"external_id", "data", "archived", "crm_updated_at"}``) and score
    the ones that are new or changed with the active ICP; their CRM writes are queued."""
    repository = AccountRepository(session)
    changed: list[UpsertedAccount] = []
    for start in range(0, len(accounts), 1000):
        changed += await repository.upsert(connection_id, accounts[start : start + 1000])
    version = await IcpRepository(session).get_active()
    if version is None or not changed:
        return UpsertOutcome(changed, 0)
    data_of = {a["external_id"]: a for a in accounts}
    live = [
        (account.id, data_of[account.external_id]["data"])
        for account in changed
        if not data_of[account.external_id].get("archived")
    ]
    await score_stored_accounts(session, accounts=live, version=version, trigger="sync")
    return UpsertOutcome(changed, len(live))


def account_rows(records: Sequence[AccountRecord]) -> list[dict[str, Any]]:
    """Connector records as rows for ``upsert_and_score``."""
    return [
        {
            "external_id": record.external_id,
            "data": {k: v for k, v in record.fields.items() if v is not None},
            "archived": record.archived,
            "crm_updated_at": record.crm_updated_at,
        }
        for record in records
    ]


# The orders the accounts list takes (``-``: descending); ties fall back to the id.
ACCOUNT_SORTS = ("id", "score", "-score", "name", "-name", "updated_at", "-updated_at")
# How each sort's key travels in a cursor.
_CURSOR_TYPES: dict[str, type] = {"id": int, "score": int, "name": str, "updated_at": str}


def parse_sort(value: str) -> str:
    """A sort the accounts list takes, or ValidationFailed naming them."""
    if value not in ACCOUNT_SORTS:
        raise ValidationFailed([problem("sort", f"sort is one of {', '.join(ACCOUNT_SORTS)}")])
    return value


def _sort_key(sort: str, account: Account, score: AccountScore | None) -> str | int:
    """The value of ``sort``'s key for one row, as a cursor carries it."""
    match sort.removeprefix("-"):
        case "score":
            return score.score if score is not None else -1
        case "name":
            return account.name or ""
        case "updated_at":
            return account.updated_at.isoformat()
        case _:
            return account.id


async def list_accounts(
    session: AsyncSession,
    *,
    filters: AccountFilters,
    sort: str = "id",
    cursor: str | None,
    limit: int,
) -> tuple[list[tuple[Account, AccountScore | None]], str | None]:
    """One page of accounts in ``sort`` order and the cursor of the next (None on the last
    page); a cursor only continues the list, filters aside, that made it."""
    sort = parse_sort(sort)
    kind = f"accounts:{sort}"
    after: tuple[Any, int] | None = None
    if cursor:
        value, after_id = decode_cursor(
            cursor, kind, types=(_CURSOR_TYPES[sort.removeprefix("-")], int)
        )
        if sort.removeprefix("-") == "updated_at":
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise BadRequest("invalid cursor; pass back next_cursor unchanged") from None
        after = (value, after_id)
    rows = await AccountRepository(session).page(filters, sort=sort, after=after, limit=limit + 1)
    if len(rows) <= limit:
        return rows, None
    account, score = rows[limit - 1]
    return rows[:limit], encode_cursor(kind, _sort_key(sort, account, score), account.id)


EXPORT_COLUMNS = (
    "id",
    "external_id",
    "name",
    "domain",
    "score",
    "tier",
    "is_mql",
    "is_sql",
    "excluded",
    "coverage",
    "reasons",
    "scored_at",
)
# Rows read per transaction while exporting: memory stays one page deep.
EXPORT_PAGE = 5_000


async def export_accounts_csv(
    database: Database, *, filters: AccountFilters, sort: str
) -> AsyncIterator[bytes]:
    """The filtered, sorted list as CSV, header first, read a page per short transaction
    (no transaction stays open while a slow client reads a million rows)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    cursor: str | None = None
    while True:
        async with database.transaction() as session:
            rows, cursor = await list_accounts(
                session, filters=filters, sort=sort, cursor=cursor, limit=EXPORT_PAGE
            )
        for account, score in rows:
            writer.writerow(
                [account.id, account.external_id, account.name, account.domain]
                + (
                    [
                        score.score,
                        score.tier,
                        str(score.is_mql).lower(),
                        str(score.is_sql).lower(),
                        str(score.excluded).lower(),
                        round(score.coverage, 4),
                        score.reasons,
                        score.scored_at.isoformat(),
                    ]
                    if score is not None
                    else [None] * 8
                )
            )
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        if cursor is None:
            return


@dataclass(slots=True)
class AccountDetail:
    """An account, the verdict that stands, its breakdown and its history."""

    account: Account
    score: AccountScore | None
    version: IcpVersion | None
    result: ScoreResult | None
    history: list[AccountScoreHistory]
    deals: list[DealOut]
    contacts: list[ContactOut]
    personas: dict[str, int]


async def get_account(session: AsyncSession, *, account_id: int) -> AccountDetail:
    """One account; the breakdown is recomputed from the version that scored it
    (scoring is deterministic, so it is the breakdown behind the stored score)."""
    found = await AccountRepository(session).get(account_id)
    if found is None:
        raise NotFound(f"no account {account_id}")
    account, score = found
    version = await IcpRepository(session).get(score.icp_version_id) if score else None
    result = None
    personas: dict[str, int] = {}
    if version is not None:
        compiled = compiled_icp(version)
        [(_, data)] = await with_rollups(session, compiled, [(account.id, account.data)])
        result = score_account(compiled, data)
        people = (await ContactRepository(session).of_accounts([account.id])).get(account.id)
        if people is not None and compiled.definition.personas:
            counts = PersonaMatcher(compiled.definition.personas).roll_up(
                ContactView(*person) for person in people
            )
            personas = {
                key.removeprefix(PERSONA_PREFIX): n
                for key, n in counts.items()
                if key.startswith(PERSONA_PREFIX)
            }
    history = await AccountRepository(session).history(account_id)
    deals, _ = await list_deals(
        session, filters=DealFilters(account_id=account_id), cursor=None, limit=DETAIL_LIMIT
    )
    contacts, _ = await list_contacts(
        session,
        account_id=account_id,
        connection_id=None,
        persona=None,
        cursor=None,
        limit=DETAIL_LIMIT,
    )
    return AccountDetail(account, score, version, result, history, deals, contacts, personas)


# How many deals and contacts an account's detail lists (the lists page through the rest).
DETAIL_LIMIT = 100


async def account_stats(
    session: AsyncSession, *, connection_id: uuid.UUID | None
) -> dict[str, Any]:
    """Counts over the live accounts (of one connection, or all)."""
    return await AccountRepository(session).stats(connection_id=connection_id)


def parse_tier(value: str | None) -> str | None:
    """``"a"`` → ``"A"``; ValidationFailed for anything but A–D."""
    if value is None:
        return None
    tier = value.strip().upper()
    if tier not in {"A", "B", "C", "D"}:
        raise ValidationFailed([problem("tier", "tier is one of A, B, C, D")])
    return tier
