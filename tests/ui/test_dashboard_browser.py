"""The dashboard in a real headless Chromium (Debian's, driven by Playwright; no browser is
downloaded): sign in, every page, the figures equal the API's, the charts are drawn, no
console error, no request leaves the host, and the forms' guards hold.

Set ICP_SYNC_SCREENSHOTS=<dir> to keep screenshots of the pages (README's come from here).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from tests.api.test_backtest import _seed
from tests.ui.conftest import new_key

playwright_api = pytest.importorskip("playwright.async_api")

CHROMIUM = os.environ.get("ICP_SYNC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = os.environ.get("ICP_SYNC_SCREENSHOTS")

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium")
    pytest.skip(
        "the browser tests need Chromium: apt-get install chromium (CI installs it)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.slow


class Watched:
    """A browser page and what it did that it should not: console errors, failed
    requests, requests to any host but the service's."""

    def __init__(self, page, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.console_errors: list[str] = []
        self.outside: list[str] = []
        self.failed: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))

    def _console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    async def goto(self, path: str) -> None:
        """Open a page and wait until it has settled."""
        response = await self.page.goto(self.origin + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        await self.page.wait_for_load_state("networkidle")

    async def charts_drawn(self) -> int:
        """How many charts on the page have painted something (not a blank canvas)."""
        return await self.page.evaluate(
            """() => [...document.querySelectorAll('canvas[data-chart]')].filter((c) => {
                if (c.dataset.drawn !== 'true' || !c.width || !c.height) return false;
                const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
                return false;
            }).length"""
        )

    async def figure(self, name: str) -> str:
        """The text of the element marked ``data-figure="name"``."""
        return (await self.page.locator(f'[data-figure="{name}"]').first.inner_text()).strip()

    async def shot(self, name: str) -> None:
        """Keep a screenshot when ICP_SYNC_SCREENSHOTS names a directory."""
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            await self.page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)

    def assert_clean(self) -> None:
        """No console error, no failed request, nothing sent off the host."""
        assert self.console_errors == []
        assert self.failed == []
        assert self.outside == []


@pytest.fixture
async def chromium() -> AsyncIterator:
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        await browser.close()


@pytest.fixture
async def seeded_service(database, example_icp_yaml, service_url):
    """The served app (API and worker) over the example ICP, 300 accounts with deals, and
    a candidate version with stricter tiers."""
    await _seed(database, example_icp_yaml)
    admin = {"Authorization": f"Bearer {await new_key(['admin'])}"}
    changed = yaml.safe_load(example_icp_yaml)
    changed["tiers"] = {"A": 70, "B": 50, "C": 30}
    async with httpx.AsyncClient(base_url=service_url, headers=admin) as api:
        candidate = (
            await api.post(
                "/api/v1/icps",
                content=yaml.safe_dump(changed),
                headers={"Content-Type": "application/yaml"},
            )
        ).json()
    return {"url": service_url, "admin": admin, "candidate": candidate}


async def _signed_in(chromium, origin: str, scopes: list[str]) -> Watched:
    context = await chromium.new_context(viewport={"width": 1360, "height": 900})
    watched: Watched

    async def only_this_host(route) -> None:
        if urlsplit(route.request.url).netloc != urlsplit(origin).netloc:
            watched.outside.append(route.request.url)
            await route.abort()
        else:
            await route.continue_()

    await context.route("**/*", only_this_host)
    page = await context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    watched = Watched(page, origin)
    await page.goto(origin + "/")
    assert urlsplit(page.url).path == "/signin"
    await page.fill("#api_key", await new_key(scopes))
    await page.click("button[type=submit]")
    await page.wait_for_load_state("networkidle")
    assert urlsplit(page.url).path == "/"
    return watched


async def test_a_person_signs_in_and_every_page_shows_the_apis_figures(seeded_service, chromium):
    origin = seeded_service["url"]
    browser = await _signed_in(chromium, origin, ["write"])
    async with httpx.AsyncClient(base_url=origin, headers=seeded_service["admin"]) as api:
        stats = (await api.get("/api/v1/accounts/stats")).json()
        top = (await api.get("/api/v1/accounts", params={"sort": "-score", "limit": 1})).json()
        candidate_id = seeded_service["candidate"]["id"]
        backtest = (await api.post(f"/api/v1/icps/{candidate_id}/backtest")).json()
        preview = (await api.post(f"/api/v1/icps/{candidate_id}/preview")).json()

    # Overview: the figures, and the tier chart drawn.
    assert int((await browser.figure("accounts")).replace(",", "")) == stats["accounts"]
    assert int((await browser.figure("mql")).replace(",", "")) == stats["mql"]
    for tier in "ABCD":
        assert int((await browser.figure(f"tier-{tier}")).replace(",", "")) == stats["tiers"][tier]
    assert await browser.charts_drawn() == 1
    await browser.shot("overview")

    # An ICP version: its backtest and preview computed on request, charts drawn.
    await browser.goto(f"/icps/{candidate_id}")
    await browser.page.click("#run-backtest")
    await browser.page.wait_for_selector("#backtest canvas[data-drawn=true]")
    assert await browser.figure("backtest-auc") == f"{backtest['auc']:.3f}"
    assert await browser.charts_drawn() == 2
    await browser.page.click("#run-preview")
    await browser.page.wait_for_selector("#preview [data-figure=transitions]")
    assert int((await browser.figure("preview-accounts")).replace(",", "")) == preview["accounts"]
    for before, row in preview["transitions"].items():
        for after, n in row.items():
            cell = browser.page.locator(f'#preview [data-cell="{before}-{after}"]')
            assert int((await cell.inner_text()).replace(",", "")) == n
    assert await browser.charts_drawn() == 2 + 2 * len(preview["backtests"])
    await browser.shot("icp-version")

    # Discovery: traits charted, the candidate shown.
    await browser.goto("/discover")
    await browser.page.fill("#max_criteria", "5")
    await browser.page.click("#run-discovery")
    await browser.page.wait_for_load_state("networkidle")
    assert await browser.page.locator("[data-trait]").count() > 0
    assert await browser.charts_drawn() == 1
    await browser.shot("discover")

    # Accounts, an account, connections, health, versions.
    await browser.goto("/accounts?sort=-score")
    first = browser.page.locator("#accounts tbody tr").first
    assert await first.get_attribute("data-account") == str(top["items"][0]["id"])
    await browser.goto(f"/accounts/{top['items'][0]['id']}")
    assert await browser.figure("score") == str(top["items"][0]["score"])
    for path in ("/connections", "/health", "/icps"):
        await browser.goto(path)
    browser.assert_clean()


async def test_a_read_key_cannot_activate_and_a_form_without_its_token_is_refused(
    seeded_service, chromium
):
    origin = seeded_service["url"]
    candidate_id = seeded_service["candidate"]["id"]
    reader = await _signed_in(chromium, origin, ["read"])
    await reader.goto(f"/icps/{candidate_id}")
    assert await reader.page.locator("#activate").count() == 0

    # Posting the activation anyway (a crafted form carrying the session's own token).
    status = await reader.page.evaluate(
        """async (path) => {
            const token = document.querySelector('input[name=csrf_token]').value;
            const body = new URLSearchParams({csrf_token: token});
            return (await fetch(path, {method: 'POST', body})).status;
        }""",
        f"/icps/{candidate_id}/activate",
    )
    assert status == 403

    writer = await _signed_in(chromium, origin, ["write"])
    await writer.goto(f"/icps/{candidate_id}")
    await writer.page.evaluate(
        "document.querySelector('#activate').form.querySelector('input[name=csrf_token]').remove()"
    )
    async with writer.page.expect_navigation():
        await writer.page.click("#activate")
    assert await writer.page.locator("h1").first.inner_text() == "403 · Forbidden"
    async with httpx.AsyncClient(base_url=origin, headers=seeded_service["admin"]) as api:
        version = (await api.get(f"/api/v1/icps/{candidate_id}")).json()
    assert version["status"] != "active"

    # With its token, the write key activates.
    await writer.goto(f"/icps/{candidate_id}")
    async with writer.page.expect_navigation():
        await writer.page.click("#activate")
    assert re.search(r"activated=1$", writer.page.url)
    assert await writer.page.locator(".status-active").count() == 1
    writer.console_errors = [e for e in writer.console_errors if "403" not in e]
    writer.assert_clean()
    reader.console_errors = [e for e in reader.console_errors if "403" not in e]
    reader.assert_clean()
