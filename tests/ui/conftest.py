"""Dashboard fixtures: the app behind an HTTPS-addressed client (the session cookie is
Secure, and a cookie jar sends it only over HTTPS), and signing in as a person would."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from app.core.config import Settings

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@pytest.fixture
async def dashboard_app(settings: Settings):
    """The app, started, with no in-process worker."""
    from app.main import create_app

    app = create_app(settings, run_worker=False, migrate=False)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def browser(dashboard_app) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client, signed in to nothing yet."""
    transport = httpx.ASGITransport(app=dashboard_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://dashboard.test") as client:
        yield client


async def new_key(scopes: list[str]) -> str:
    """A fresh API key with ``scopes``, in clear text."""
    from app.apikeys.service import create_api_key
    from app.core.db import get_database

    async with get_database().transaction() as session:
        return await create_api_key(session, name="person " + ",".join(scopes), scopes=scopes)


async def sign_in(client: httpx.AsyncClient, key: str, *, next_path: str = "/") -> httpx.Response:
    """Fill in and send the sign-in form as a browser would."""
    form = await client.get("/signin", params={"next": next_path})
    return await client.post(
        "/signin",
        data={"api_key": key, "next": next_path, "csrf_token": csrf_of(form.text)},
    )


@pytest.fixture
async def reader(browser) -> httpx.AsyncClient:
    """The client signed in with a read-only key."""
    response = await sign_in(browser, await new_key(["read"]))
    assert response.status_code == 303
    return browser


@pytest.fixture
async def writer(browser) -> httpx.AsyncClient:
    """The client signed in with a write key."""
    response = await sign_in(browser, await new_key(["write"]))
    assert response.status_code == 303
    return browser
