"""The ``icp-sync`` command line (DESIGN §6)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from pydantic import ValidationError

from app.core.config import Settings, get_settings
from app.core.db import Database, close_database, database_url, open_database
from app.core.errors import IcpSyncError, ServiceUnavailable, problems
from app.core.logging import configure_logging
from app.core.migrations import pending_migrations, upgrade_to_head
from app.core.security import configure_secrets
from app.science.backtest import TIERS

cli = typer.Typer(
    name="icp-sync",
    help="Score CRM companies against your Ideal Customer Profile and write the verdict back.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help, as click prints it: typer's rich tables label every flag <bool>.
    rich_markup_mode=None,
)
icp_cli = typer.Typer(
    help="ICP definitions (ICP-as-code).", no_args_is_help=True, rich_markup_mode=None
)
api_key_cli = typer.Typer(help="API keys.", no_args_is_help=True, rich_markup_mode=None)
cli.add_typer(icp_cli, name="icp")
cli.add_typer(api_key_cli, name="api-key")

T = TypeVar("T")


@contextlib.asynccontextmanager
async def opened_database(settings: Settings) -> AsyncIterator[Database]:
    """The database, migrated when embedded, with the job queue open for deferrals."""
    from app.jobs.runtime import open_job_queue

    url = await asyncio.to_thread(database_url, settings)
    if settings.embedded:
        await asyncio.to_thread(upgrade_to_head, url)
    elif await asyncio.to_thread(pending_migrations, url):
        raise ServiceUnavailable(
            "the database is not migrated to this release: run `icp-sync migrate`"
        )
    database = open_database(settings)
    configure_secrets(settings)
    try:
        async with open_job_queue(url, max_size=2):
            yield database
    finally:
        await close_database()


def run_with_database(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` in one event loop with the database open; expected errors exit 1."""
    settings = get_settings()
    configure_logging(
        "WARNING" if settings.log_level.upper() == "INFO" else settings.log_level,
        settings.log_format,
    )

    async def main() -> T:
        async with opened_database(settings) as database:
            return await work(database)

    try:
        return asyncio.run(main())
    except IcpSyncError as exc:
        typer.echo(f"error: {_one_line(exc)}", err=True)
        raise typer.Exit(1) from None


def _one_line(exc: IcpSyncError) -> str:
    """An expected failure as the one line a user reads: what, and where when a field is."""
    said = [
        f"{p['path']}: {p['message']}" if p["path"] else p["message"] for p in problems(exc.detail)
    ]
    return f"{exc.error}: {'; '.join(said)}"


def _uuid(value: str, *, what: str) -> uuid.UUID:
    """A command-line id, or a one-line usage error."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not {what} id (a UUID)") from None


def _content_type(path: Path) -> str:
    return "application/json" if path.suffix.lower() == ".json" else "application/yaml"


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(metavar="HOST", help="interface to bind")] = None,
    port: Annotated[int | None, typer.Option(metavar="PORT", help="port to bind")] = None,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="run no job worker")] = False,
) -> None:
    """Run the HTTP API (and, unless --no-worker, a job worker in the same process)."""
    import uvicorn

    from app.main import create_app

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        configure_secrets(settings)  # refused keys stop it here, in one line, not mid-start
    except IcpSyncError as exc:
        typer.echo(f"error: {_one_line(exc)}", err=True)
        raise typer.Exit(1) from None
    app = create_app(settings, run_worker=not no_worker, tune_gc=True)
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        log_config=None,  # uvicorn's loggers go through ours (ICP_SYNC_LOG_FORMAT)
    )


@cli.command()
def worker(
    concurrency: Annotated[int, typer.Option(metavar="N", help="jobs run at once")] = 4,
    metrics_port: Annotated[
        int | None,
        typer.Option(metavar="PORT", help="serve this worker's Prometheus metrics on this port"),
    ] = None,
) -> None:
    """Run a job worker alone (scale these out next to `serve --no-worker`)."""
    from app.core.collector import settle_garbage_collector
    from app.jobs.runtime import run_worker_until_cancelled, start_metrics_server

    if metrics_port is not None:
        start_metrics_server(metrics_port)

    async def work(_: Database) -> bool:
        # SIGTERM stops the worker as procrastinate stops (the running task cancelled), not by
        # an exception raised wherever the signal lands: a job catching it would swallow it
        # and the worker would run on.
        main_task = asyncio.current_task()
        assert main_task is not None
        terminated = asyncio.Event()

        def stop() -> None:
            terminated.set()
            main_task.cancel()

        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop)
        settle_garbage_collector()
        try:
            await run_worker_until_cancelled(concurrency=concurrency)
        except asyncio.CancelledError:
            if not terminated.is_set():
                raise
        return terminated.is_set()

    with contextlib.suppress(KeyboardInterrupt):
        if run_with_database(work):
            raise SystemExit(128 + signal.SIGTERM)


@cli.command()
def migrate() -> None:
    """Bring the database schema to the latest migration."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    url = database_url(settings)
    pending = pending_migrations(url)
    upgrade_to_head(url)
    for migration in pending:
        typer.echo(f"applied {migration}")
    typer.echo("database is at the latest migration" + ("" if pending else " (nothing to apply)"))


@cli.command("rotate-secrets")
def rotate_secrets() -> None:
    """Re-encrypt stored CRM credentials and webhook signing secrets with the first key of
    ICP_SYNC_SECRET_KEYS (then the older keys can be dropped)."""
    from app.connections.service import reseal_all_credentials
    from app.subscriptions.service import reseal_endpoint_secrets

    async def work(database: Database) -> tuple[int, int]:
        async with database.transaction() as session:
            return await reseal_all_credentials(session), await reseal_endpoint_secrets(session)

    connections, endpoints = run_with_database(work)
    typer.echo(
        f"re-encrypted the credentials of {connections} connection(s) and the signing secrets "
        f"of {endpoints} webhook endpoint(s)"
    )


@api_key_cli.command("create")
def api_key_create(
    name: Annotated[str, typer.Option(metavar="NAME", help="who or what uses the key")],
    scopes: Annotated[
        str, typer.Option(metavar="SCOPES", help="comma-separated: read, write, admin")
    ] = "read",
) -> None:
    """Create an API key; the key is printed once, alone on the last line."""
    from app.apikeys.service import create_api_key

    scope_list = [s.strip() for s in scopes.split(",") if s.strip()]

    async def work(database: Database) -> str:
        async with database.transaction() as session:
            return await create_api_key(session, name=name, scopes=scope_list)

    key = run_with_database(work)
    typer.echo(f"created API key {name!r} with scopes {','.join(scope_list)}; it is shown once:")
    typer.echo(key)


@api_key_cli.command("list")
def api_key_list() -> None:
    """Every API key: prefix, name, scopes, created, last used (never the key itself)."""
    from app.apikeys.service import list_api_keys

    async def work(database: Database) -> list[Any]:
        async with database.transaction() as session:
            return list(await list_api_keys(session))

    for key in run_with_database(work):
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        typer.echo(
            f"{key.prefix}…  {key.name:<24} {','.join(key.scopes):<16} "
            f"created {key.created_at:%Y-%m-%d}  last used {used}  {state}  {key.id}"
        )


@api_key_cli.command("revoke")
def api_key_revoke(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", hidden=True)],
) -> None:
    """Revoke an API key: it stops working at once.

    KEY_ID is the key's id, as `api-key list` shows it.
    """
    from app.apikeys.service import revoke_api_key

    revoked = _uuid(key_id, what="an API key")

    async def work(database: Database) -> Any:
        async with database.transaction() as session:
            return await revoke_api_key(session, key_id=revoked)

    key = run_with_database(work)
    typer.echo(f"revoked API key {key.name!r} ({key.prefix}…)")


@icp_cli.command("apply")
def icp_apply(
    file: Annotated[Path, typer.Argument(metavar="FILE", exists=True, dir_okay=False, hidden=True)],
    activate: Annotated[bool, typer.Option("--activate", help="make it the active ICP")] = False,
) -> None:
    """Save an ICP file as a new version (unchanged files create none) and maybe activate it.

    FILE is the definition, in YAML or JSON.
    """
    from app.icps.service import activate_icp, apply_icp

    async def work(database: Database) -> tuple[Any, bool, Any]:
        async with database.transaction() as session:
            version, created = await apply_icp(
                session, source=file.read_bytes(), content_type=_content_type(file)
            )
            activation = await activate_icp(session, icp_id=version.id) if activate else None
            return version, created, activation

    version, created, activation = run_with_database(work)
    verb = "saved" if created else "unchanged:"
    status = activation.version.status if activation else version.status
    typer.echo(f"{verb} {version.label} ({version.id}), status {status}")
    if activation is not None:
        _say_activated(activation)


def _say_activated(activation: Any) -> None:
    """One line on what an activation did, with the rescore job to follow."""
    label = activation.version.label
    if activation.rescore_job_id is None:
        typer.echo(f"{label} was already active: nothing to rescore")
    else:
        typer.echo(
            f"activated {label}: every account is being rescored against it "
            f"(job {activation.rescore_job_id}: GET /api/v1/jobs/{activation.rescore_job_id})"
        )


@icp_cli.command("export")
def icp_export(
    reference: Annotated[
        str | None,
        typer.Argument(metavar="REFERENCE", hidden=True),
    ] = None,
) -> None:
    """Print an ICP version's definition as YAML, keys in a stable, human order.

    REFERENCE is a version id or NAME@VERSION (default: the active version).
    """
    from app.icps.service import find_icp, get_active_icp
    from app.scoring import ordered_definition

    async def work(database: Database) -> dict[str, Any]:
        async with database.transaction() as session:
            version = (
                await find_icp(session, reference=reference)
                if reference
                else await get_active_icp(session)
            )
            return version.definition

    definition = ordered_definition(run_with_database(work))
    sys.stdout.write(yaml.safe_dump(definition, sort_keys=False, allow_unicode=True))


@icp_cli.command("list")
def icp_list() -> None:
    """Every ICP version, newest first, the active one marked."""
    from app.icps.service import list_icps

    async def work(database: Database) -> list[tuple[str, str, str, str]]:
        async with database.transaction() as session:
            return [
                (v.status, f"{v.name}@{v.version}", str(v.id), f"{v.created_at:%Y-%m-%d %H:%M}")
                for v in await list_icps(session)
            ]

    for status, reference, icp_id, created in run_with_database(work):
        marker = "*" if status == "active" else " "
        typer.echo(f"{marker} {reference:<40} {status:<8} {created}  {icp_id}")


@icp_cli.command("backtest")
def icp_backtest(
    reference: Annotated[str, typer.Argument(metavar="REFERENCE", hidden=True)],
    closed_after: Annotated[
        datetime | None, typer.Option(metavar="DATE", help="deals closed on or after")
    ] = None,
    closed_before: Annotated[
        datetime | None, typer.Option(metavar="DATE", help="deals closed before")
    ] = None,
) -> None:
    """How a version's tiers did against the deals that closed: a table per tier.

    REFERENCE is a version id or NAME@VERSION, active or not.
    """
    from app.icps.service import find_icp
    from app.insights.schemas import Window
    from app.insights.service import backtest_icp

    window = Window(closed_after=_aware(closed_after), closed_before=_aware(closed_before))

    async def work(database: Database) -> tuple[str, dict[str, Any]]:
        async with database.transaction() as session:
            version = await find_icp(session, reference=reference)
            return version.label, await backtest_icp(session, icp_id=version.id, window=window)

    label, figures = run_with_database(work)
    for line in backtest_table(label, figures):
        typer.echo(line)


def _aware(moment: datetime | None) -> datetime | None:
    """A command-line date in UTC unless it names its zone."""
    return moment.replace(tzinfo=moment.tzinfo or UTC) if moment else None


@icp_cli.command("discover")
def icp_discover(
    out: Annotated[
        Path | None,
        typer.Option(metavar="FILE", dir_okay=False, help="write the candidate YAML here"),
    ] = None,
    closed_after: Annotated[
        datetime | None, typer.Option(metavar="DATE", help="learn from deals closed on or after")
    ] = None,
    closed_before: Annotated[
        datetime | None, typer.Option(metavar="DATE", help="learn from deals closed before")
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(metavar="FIELD", help="look only at these fields (repeat the option)"),
    ] = None,
    max_criteria: Annotated[
        int, typer.Option(metavar="N", min=1, max=20, help="criteria the candidate may keep")
    ] = 8,
    name: Annotated[str, typer.Option(metavar="NAME", help="the candidate's name")] = (
        "Discovered ICP"
    ),
) -> None:
    """Find the traits your won accounts share and propose an ICP built from them.

    Prints every trait tried (lift with its interval, q-value) and the candidate's
    validation; the candidate YAML goes to --out (or is printed), ready for `icp apply`.
    """
    from app.insights.schemas import DiscoverIn
    from app.insights.service import discover_icp

    try:
        request = DiscoverIn(
            closed_after=_aware(closed_after),
            closed_before=_aware(closed_before),
            fields=field or None,
            max_criteria=max_criteria,
            name=name,
        )
    except ValidationError as exc:
        raise typer.BadParameter("; ".join(e["msg"] for e in exc.errors())) from None

    async def work(database: Database) -> dict[str, Any]:
        async with database.transaction() as session:
            return await discover_icp(session, request=request)

    figures = run_with_database(work)
    for line in discovery_table(figures):
        typer.echo(line)
    if figures["yaml"] is None:
        return
    if out is None:
        typer.echo("")
        sys.stdout.write(figures["yaml"])
    else:
        out.write_text(figures["yaml"])
        typer.echo(f"wrote the candidate to {out}: save it with `icp-sync icp apply {out}`")


def discovery_table(figures: dict[str, Any]) -> list[str]:
    """A discovery as lines a person reads: the sample, the traits by lift, the validation
    and any warning."""
    sample = figures["sample"]
    lines = [
        f"{sample['accounts']:,} accounts with closed deals, {sample['won']:,} won "
        f"(base rate {_percent(sample['base_rate'])})",
        f"  {'trait':<44}{'accounts':>9}{'won':>7}{'win rate':>10}{'lift':>7}"
        f"{'95% interval':>15}{'q':>8}",
    ]
    traits = sorted(figures["traits"], key=lambda t: (not t["selected"], -(t["lift"] or 0)))
    for trait in traits:
        interval = trait["lift_ci"]
        bounds = f"{interval[0]:.2f}–{interval[1]:.2f}" if interval else "—"
        lift = f"{trait['lift']:.2f}×" if trait["lift"] is not None else "—"
        q_value = f"{trait['q_value']:.3f}" if trait["q_value"] is not None else "—"
        marker = "*" if trait["selected"] else " "
        lines.append(
            f"{marker} {trait['label'][:43]:<44}{trait['accounts']:>9,}{trait['won']:>7,}"
            f"{_percent(trait['win_rate']):>10}{lift:>7}{bounds:>15}{q_value:>8}"
        )
    lines.append("(* kept by the candidate)")
    validation = figures.get("validation")
    if validation and validation.get("auc") is not None:
        low, high = validation["auc_ci"] or (None, None)
        interval = f" (95% interval {low:.3f}–{high:.3f})" if low is not None else ""
        lines.append(f"validation: AUC {validation['auc']:.3f}{interval}, {validation['method']}")
    lines += [f"warning: {warning}" for warning in figures["warnings"]]
    return lines


@icp_cli.command("preview")
def icp_preview(
    reference: Annotated[str, typer.Argument(metavar="REFERENCE", hidden=True)],
) -> None:
    """What activating a version would change, against the active one: tier moves, MQL/SQL
    gained and lost, CRM writes per connection. Stores nothing and calls no CRM.

    REFERENCE is a version id or NAME@VERSION.
    """
    from app.icps.service import find_icp
    from app.insights.service import preview_activation

    async def work(database: Database) -> tuple[str, dict[str, Any]]:
        async with database.transaction() as session:
            version = await find_icp(session, reference=reference)
            return version.label, await preview_activation(session, icp_id=version.id)

    label, figures = run_with_database(work)
    for line in preview_table(label, figures):
        typer.echo(line)


def preview_table(label: str, figures: dict[str, Any]) -> list[str]:
    """A preview as lines a person reads: the tier transition matrix, flags, writes."""
    against = figures["against"]
    was = f"{against['name']}@{against['version']}" if against else "no active ICP"
    lines = [
        f"activating {label} over {figures['accounts']:,} accounts (now: {was})",
        f"  {'now → then':<12}" + "".join(f"{tier:>9}" for tier in TIERS),
    ]
    for before, row in sorted(figures["transitions"].items()):
        lines.append(f"  {before:<12}" + "".join(f"{row[tier]:>9,}" for tier in TIERS))
    for flag in ("mql", "sql"):
        change = figures[flag]
        lines.append(f"{flag.upper()}: +{change['gained']:,} gained, -{change['lost']:,} lost")
    writes = figures["writes_needed"]
    total = sum(writes.values())
    per = ", ".join(f"{connection}: {n:,}" for connection, n in sorted(writes.items()))
    lines.append(f"CRM writes needed: {total:,}" + (f" ({per})" if per else ""))
    return lines


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def backtest_table(label: str, figures: dict[str, Any]) -> list[str]:
    """A backtest as lines a person reads: the sample, then one row per tier and flag."""
    sample = figures["sample"]
    lines = [
        f"{label}: {sample['accounts']:,} accounts with closed deals, {sample['won']:,} won "
        f"(base rate {_percent(sample['base_rate'])})",
        f"{'':<5}{'accounts':>10}{'won':>8}{'win rate':>10}{'95% interval':>18}"
        f"{'of accounts':>13}{'of wins':>10}{'lift':>7}",
    ]
    for tier in figures["tiers"]:
        interval = tier["win_rate_ci"]
        bounds = f"{_percent(interval[0])}–{_percent(interval[1])}" if interval else "—"
        lift = f"{tier['lift']:.2f}×" if tier["lift"] is not None else "—"
        lines.append(
            f"{tier['tier']:<5}{tier['accounts']:>10,}{tier['won']:>8,}"
            f"{_percent(tier['win_rate']):>10}{bounds:>18}"
            f"{_percent(tier['share_of_accounts']):>13}{_percent(tier['share_of_wins']):>10}"
            f"{lift:>7}"
        )
    for flag in ("mql", "sql"):
        row = figures[flag]
        lines.append(
            f"{flag.upper():<5}{row['accounts']:>10,}{row['won']:>8,}"
            f"{_percent(row['win_rate']):>10}"
        )
    if figures["auc"] is not None:
        low, high = figures["auc_ci"]
        lines.append(f"AUC {figures['auc']:.3f} (95% interval {low:.3f}–{high:.3f})")
    return lines


@icp_cli.command("activate")
def icp_activate(
    reference: Annotated[str, typer.Argument(metavar="REFERENCE", hidden=True)],
) -> None:
    """Make a version the active ICP; every account is rescored against it.

    REFERENCE is a version id or NAME@VERSION, as `icp list` shows them.
    """
    from app.icps.service import activate_icp, find_icp

    async def work(database: Database) -> Any:
        async with database.transaction() as session:
            version = await find_icp(session, reference=reference)
            return await activate_icp(session, icp_id=version.id)

    _say_activated(run_with_database(work))


@icp_cli.command("health")
def icp_health() -> None:
    """How the active ICP is holding up: age, drift since its baseline (PSI), fill rates and
    alerts, as GET /api/v1/icps/active/health answers."""
    from app.health.service import icp_health as active_icp_health

    async def work(database: Database) -> dict[str, Any]:
        async with database.transaction() as session:
            return await active_icp_health(session)

    for line in health_table(run_with_database(work)):
        typer.echo(line)


def _drift_level(psi: float | None) -> str:
    from app.science.drift import PSI_ALERT, PSI_WATCH

    if psi is None:
        return "—"
    return "ALERT" if psi >= PSI_ALERT else "watch" if psi >= PSI_WATCH else "stable"


def health_table(report: dict[str, Any]) -> list[str]:
    """ICP health as lines a person reads: age and status, then the PSI and fill rates of the
    tiers and of each criterion's field, then the alerts."""
    status = report["status"].replace("_", " ")
    lines = [
        f"{report['icp_version']}: active for {report['age_days']} days, {status} "
        "(review soon from 90 days, stale from 180)"
    ]
    if report["baseline_at"] is None:
        lines.append("no baseline yet: it is taken once the activation's rescore has finished")
    else:
        taken = datetime.fromisoformat(report["baseline_at"]).astimezone(UTC)
        lines.append(
            f"baseline taken {taken:%Y-%m-%d %H:%M} UTC; {report['accounts']:,} live accounts now"
        )
    lines.append(f"{'':<32}{'PSI':>7}  {'drift':<8}{'filled then':>12}{'now':>8}")
    psi = report["psi"]
    rows = [("tiers", psi["tiers"], None)]
    rows += [(f, value, report["fill_rates"].get(f)) for f, value in psi["fields"].items()]
    for name, value, fill in rows:
        figure = "—" if value is None else f"{value:.3f}"
        then = _percent(fill["baseline"]) if fill else ""
        now = _percent(fill["current"]) if fill else ""
        lines.append(f"{name:<32}{figure:>7}  {_drift_level(value):<8}{then:>12}{now:>8}")
    if not report["alerts"]:
        lines.append("alerts: none")
    else:
        lines.append("alerts:")
        lines += [f"  {alert['kind']}: {alert['detail']}" for alert in report["alerts"]]
    return lines


@cli.command("import")
def import_csv(
    file: Annotated[Path, typer.Argument(metavar="FILE", exists=True, dir_okay=False, hidden=True)],
) -> None:
    """Import and score a CSV of companies; bad rows are listed by line number.

    FILE is a CSV export with canonical column names (attributes.<name> for the rest).
    """
    from app.accounts.service import ImportReport, import_accounts_csv

    async def work(database: Database) -> ImportReport:
        async with database.transaction() as session:
            return await import_accounts_csv(session, content=file.read_bytes())

    report = run_with_database(work)
    typer.echo(
        f"imported {report.imported} ({report.created} new, {report.updated} updated, "
        f"{report.unchanged} unchanged), "
        f"scored {report.scored}, refused {len(report.failed)}"
    )
    for failure in report.failed:
        typer.echo(f"  line {failure['line']}: {'; '.join(failure['errors'])}", err=True)
    if report.failed:
        raise typer.Exit(2)


@cli.command()
def sync(
    connection_id: Annotated[str, typer.Argument(metavar="CONNECTION_ID", hidden=True)],
    full: Annotated[
        bool, typer.Option("--full", help="read every company, not just changes")
    ] = False,
) -> None:
    """Sync a CRM connection now, with a progress bar; exits 1 if the run fails.

    CONNECTION_ID is the connection's id (GET /api/v1/connections).
    """
    connection = _uuid(connection_id, what="a connection")
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from app.core.collector import settle_garbage_collector
    from app.models import SyncStatus
    from app.sync.pipeline import follow_sync_run
    from app.sync.service import request_sync

    async def work(database: Database) -> Any:
        settle_garbage_collector()  # this process works the run's jobs, as a worker would
        async with database.transaction() as session:
            run = await request_sync(
                session, connection_id=connection, mode="full" if full else "incremental"
            )
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()
        ) as progress:
            task = progress.add_task("queued", total=None)

            def show(state: dict[str, Any]) -> None:
                read = [f"companies {state.get('fetched', 0):,}"]
                read += [
                    f"{obj} {state[f'{obj}_fetched']:,}"
                    for obj in ("deals", "contacts")
                    if state.get(f"{obj}_fetched")
                ]
                progress.update(
                    task,
                    description=(
                        f"{state['status']}: read {', '.join(read)} · "
                        f"scored {state.get('scored', 0):,} · "
                        f"written {state.get('written', 0):,} · "
                        f"API calls {state.get('api_calls', 0):,}"
                    ),
                )

            return await follow_sync_run(database, run.id, show=show)

    run = run_with_database(work)
    counts = ", ".join(f"{k} {v:,}" for k, v in run.counts.items())
    typer.echo(f"sync {run.status}: {counts}")
    for warning in run.warnings or []:
        typer.echo(f"warning: {warning}", err=True)
    if run.status != SyncStatus.SUCCEEDED:
        typer.echo(f"error: {run.error}", err=True)
        raise typer.Exit(1)


SANDBOX_EXTRA_MISSING = "the sandbox needs the 'sandbox' extra: pip install 'icp-sync[sandbox]'"


@contextlib.contextmanager
def sandbox_extra_required() -> Iterator[None]:
    """Turn a sandbox-only dependency that is not installed into one line on stderr, exit 1."""
    try:
        yield
    except ImportError as exc:
        # One of our own modules failing to import is a bug, not a missing extra: let it show.
        if (exc.name or "").partition(".")[0] in ("app", "connectors"):
            raise
        typer.echo(SANDBOX_EXTRA_MISSING, err=True)
        raise typer.Exit(1) from None


@cli.command()
def sandbox(
    port: Annotated[
        int, typer.Option(metavar="PORT", help="HubSpot's port (Salesforce: port + 1)")
    ] = 8900,
    token: Annotated[
        str, typer.Option(metavar="TOKEN", help="the access token the fakes accept")
    ] = "sandbox-token",
    client_secret: Annotated[
        str, typer.Option(metavar="CLIENT_SECRET", help="signs HubSpot webhooks")
    ] = "sandbox-secret",
    companies: Annotated[int, typer.Option(metavar="N", help="demo companies to seed")] = 1000,
    seed: Annotated[int, typer.Option(metavar="SEED", help="seed of the demo data")] = 1,
    contacts_per_company: Annotated[
        int, typer.Option(metavar="N", help="contacts seeded per company (deals: 2 each)")
    ] = 3,
) -> None:
    """Serve the local CRM stand-ins until interrupted."""
    with sandbox_extra_required():
        from connectors.sandbox.serve import run_sandbox

    def ready(running: list[Any]) -> None:
        for fake, server in running:
            typer.echo(f"{fake.name} sandbox: {server.url}  (token {token!r})")
        typer.echo("admin: POST /_sandbox/reset, GET /_sandbox/stats, ... (Ctrl+C stops)")

    run_sandbox(
        port,
        token,
        client_secret,
        seed,
        companies,
        contacts_per_company=contacts_per_company,
        ready=ready,
    )


@cli.command()
def demo(
    once: Annotated[bool, typer.Option("--once", help="set up, print, and exit")] = False,
    port: Annotated[int | None, typer.Option(metavar="PORT", help="port to serve on")] = None,
    sandbox_port: Annotated[
        int,
        typer.Option(
            metavar="PORT", help="the HubSpot sandbox's port, Salesforce's is +1 (0: any)"
        ),
    ] = 8900,
) -> None:
    """Start the HubSpot and Salesforce sandboxes, connect them, apply the example ICP, import
    the sample CSV, run a full sync of each, wire their webhooks, print what happened, then
    serve (with --once: exit instead)."""
    with sandbox_extra_required():
        from app.demo import prepare_demo, start_demo_sandboxes

    crms = start_demo_sandboxes(port=sandbox_port, data_dir=get_settings().data_dir)

    def stop_sandboxes() -> None:
        for crm in crms:
            crm.server.stop()

    settings = get_settings()
    url = f"http://{settings.host}:{port or settings.port}"
    try:
        summary = run_with_database(
            lambda database: prepare_demo(
                database, crms, service_url=url, data_dir=settings.data_dir
            )
        )
    except BaseException:
        stop_sandboxes()
        raise
    typer.echo(summary.render(url))
    try:
        if not once:
            serve(host=None, port=port, no_worker=False)
    finally:
        stop_sandboxes()


def main() -> None:
    """Console-script entry point."""
    # SIGTERM (docker stop, systemd, a supervisor) ends the process as Ctrl-C does: through
    # normal exit, so exit hooks run and an embedded PostgreSQL this process started stops.
    # (uvicorn restores this handler after its graceful shutdown and raises the signal
    # again; with Python's default handler the process would die on the spot.)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    cli()


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
