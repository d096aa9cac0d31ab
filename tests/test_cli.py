"""The CLI as an operator uses it: in-process for the database commands, and the real
`icp-sync serve` started from scratch on an embedded PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import get_settings

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def runner(settings, monkeypatch) -> CliRunner:
    monkeypatch.setenv("ICP_SYNC_DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("ICP_SYNC_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_api_key_create_prints_the_key_alone_on_the_last_line(runner):
    result = runner.invoke(cli, ["api-key", "create", "--name", "ops", "--scopes", "read,write"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("icps_")
    assert " " not in last


def test_api_key_create_refuses_an_unknown_scope(runner):
    result = runner.invoke(cli, ["api-key", "create", "--name", "ops", "--scopes", "root"])
    assert result.exit_code == 1
    assert "unknown scope" in result.output


def test_icp_apply_is_idempotent_and_export_round_trips(runner, tmp_path):
    first = runner.invoke(cli, ["icp", "apply", str(EXAMPLES / "icp.yaml"), "--activate"])
    assert first.exit_code == 0, first.output
    assert "saved US new media, post-Series A v1" in first.output
    assert "status active" in first.output
    again = runner.invoke(cli, ["icp", "apply", str(EXAMPLES / "icp.yaml")])
    assert "unchanged: US new media, post-Series A v1" in again.output

    exported = runner.invoke(cli, ["icp", "export"])
    assert exported.exit_code == 0
    path = tmp_path / "exported.yaml"
    path.write_text(exported.output)
    assert "unchanged" in runner.invoke(cli, ["icp", "apply", str(path)]).output


def test_icp_apply_of_an_invalid_file_lists_problems_and_exits_1(runner, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ncriteria: []\n")
    result = runner.invoke(cli, ["icp", "apply", str(path)])
    assert result.exit_code == 1
    assert "ValidationFailed" in result.output


def test_import_reports_refused_rows_and_exits_2(runner, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("external_id,name,employees\na,Alpha,10\nb,Beta,many\n")
    result = runner.invoke(cli, ["import", str(path)])
    assert result.exit_code == 2
    assert "imported 1 (1 new, 0 updated, 0 unchanged)" in result.output
    assert "line 3" in result.output


def test_import_of_the_sample_csv_refuses_nothing(runner):
    result = runner.invoke(cli, ["import", str(EXAMPLES / "accounts.csv")])
    assert result.exit_code == 0, result.output
    assert "imported 400 (400 new, 0 updated, 0 unchanged)" in result.output
    assert "refused 0" in result.output


def test_demo_once_syncs_both_sandboxes_and_prints_tiers_top_accounts_and_a_key(runner):
    result = runner.invoke(cli, ["demo", "--once", "--sandbox-port", "0"])
    assert result.exit_code == 0, result.output
    assert "ICP: US new media, post-Series A v1 (active)" in result.output
    assert "CSV: 400 accounts imported" in result.output
    print(result.output)
    for crm in ("HubSpot", "Salesforce"):
        assert f"{crm} sandbox (demo) at" in result.output, result.output
    assert (
        result.output.count(
            "full sync succeeded: 2,000 companies read, 2,000 scored, 2,000 written back"
        )
        == 2
    ), result.output
    assert result.output.count("  tiers: A:") == 2
    assert result.output.strip().splitlines()[-1].startswith("icps_")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_from_nothing_starts_embedded_postgres_and_becomes_ready(tmp_path):
    """What a newcomer gets: no database configured, an empty data dir, /readyz 200."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICP_SYNC_")}
    env |= {"ICP_SYNC_DATA_DIR": str(tmp_path / "data"), "ICP_SYNC_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code
                if status == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert status == 200, process.stdout.read().decode() if process.poll() is not None else ""
        assert (tmp_path / "data" / "pgdata" / "PG_VERSION").exists()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode in (0, -15)


@pytest.mark.parametrize("command", [["sandbox"], ["demo", "--once"]])
def test_sandbox_commands_without_the_sandbox_extra_say_how_to_install_it_in_one_line(command):
    # trustme (the sandbox extra) made unimportable, as in an install without the extra.
    script = (
        "import sys; sys.modules['trustme'] = None; "
        "from app.cli import main; sys.argv = ['icp-sync', *sys.argv[1:]]; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "the sandbox needs the 'sandbox' extra: pip install 'icp-sync[sandbox]'"
    ]
    assert "Traceback" not in result.stdout + result.stderr
