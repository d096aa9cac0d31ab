"""Signing in to the dashboard with an API key: the session cookie, CSRF, sign-out,
revocation, expiry, and where a sign-in may send the browser."""

from __future__ import annotations

import time

import orjson

from app.ui.session import SESSION_COOKIE, SIGN_IN_COOKIE, SessionCookies
from tests.ui.conftest import csrf_of, new_key, sign_in


async def test_a_page_sends_a_visitor_without_a_session_to_the_sign_in_form(browser):
    response = await browser.get("/accounts?tier=A")

    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/accounts%3Ftier%3DA"


async def test_signing_in_sets_a_secure_httponly_strict_cookie_that_hides_the_key(browser):
    key = await new_key(["read"])

    response = await sign_in(browser, key, next_path="/icps")

    assert response.status_code == 303
    assert response.headers["location"] == "/icps"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")
    )
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= attributes
    assert key not in cookie and key.removeprefix("icps_") not in cookie  # sealed, not signed
    assert (await browser.get("/icps")).status_code == 200


async def test_a_wrong_key_gets_the_form_again_and_no_session(browser):
    response = await sign_in(browser, "icps_not-a-key")

    assert response.status_code == 401
    assert "That key is not valid." in response.text
    assert SESSION_COOKIE not in browser.cookies
    assert (await browser.get("/")).status_code == 303


async def test_a_sign_in_without_the_forms_csrf_token_is_refused(browser):
    key = await new_key(["admin"])
    await browser.get("/signin")  # the sign-in cookie, but a forged form without its token

    forged = await browser.post("/signin", data={"api_key": key, "csrf_token": "guess"})
    bare = await browser.post("/signin", data={"api_key": key})

    assert forged.status_code == 403
    assert bare.status_code == 403
    assert SESSION_COOKIE not in browser.cookies


async def test_a_sign_in_form_from_another_browser_is_refused(browser, dashboard_app):
    """The token must match the sign-in cookie of the same browser (a double submit)."""
    import httpx

    key = await new_key(["read"])
    theirs = await browser.get("/signin")
    transport = httpx.ASGITransport(app=dashboard_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://dashboard.test") as other:
        await other.get("/signin")
        response = await other.post(
            "/signin", data={"api_key": key, "csrf_token": csrf_of(theirs.text)}
        )
    assert response.status_code == 403


async def test_a_sign_in_never_sends_the_browser_to_another_site(browser):
    key = await new_key(["read"])
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "icps"):
        response = await sign_in(browser, key, next_path=target)
        assert response.headers["location"] == "/", target


async def test_signing_out_ends_the_session(reader):
    page = await reader.get("/")

    response = await reader.post("/signout", data={"csrf_token": csrf_of(page.text)})

    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    assert (await reader.get("/")).status_code == 303


async def test_revoking_the_key_signs_its_sessions_out(browser):
    from app.apikeys.service import revoke_api_key
    from app.core.db import get_database
    from app.core.security import hash_api_key
    from app.models import ApiKey

    key = await new_key(["read"])
    await sign_in(browser, key)
    assert (await browser.get("/")).status_code == 200
    async with get_database().transaction() as session:
        from sqlalchemy import select

        stored = await session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key)))
        await revoke_api_key(session, key_id=stored.id)

    assert (await browser.get("/")).status_code == 303


async def test_a_tampered_or_foreign_cookie_is_no_session(browser):
    await sign_in(browser, await new_key(["read"]))
    sealed = browser.cookies[SESSION_COOKIE]
    browser.cookies.clear()
    browser.cookies.set(SESSION_COOKIE, sealed[:-6] + "AAAAAA", domain="dashboard.test")
    assert (await browser.get("/")).status_code == 303

    browser.cookies.set(SESSION_COOKIE, "not a token at all", domain="dashboard.test")
    assert (await browser.get("/")).status_code == 303


def test_a_session_past_its_lifetime_is_no_session():
    from cryptography.fernet import Fernet, MultiFernet

    cipher = MultiFernet([Fernet(Fernet.generate_key())])
    cookies = SessionCookies(cipher, max_age_seconds=3600, secure=True)
    value = orjson.dumps({"key": "icps_x", "csrf": "t"})

    fresh = cipher.encrypt_at_time(value, int(time.time()) - 3000).decode()
    stale = cipher.encrypt_at_time(value, int(time.time()) - 3700).decode()

    assert cookies.session(fresh) is not None
    assert cookies.session(stale) is None
    assert cookies.sign_in_token(stale) is None  # a session is no sign-in cookie either


def test_the_session_cipher_opens_nothing_sealed_as_a_credential(settings):
    from app.core.security import credential_cipher, purpose_cipher

    credential = credential_cipher(settings).encrypt(b'{"key": "icps_x", "csrf": "t"}')
    cookies = SessionCookies(
        purpose_cipher(settings, "dashboard session"), max_age_seconds=3600, secure=True
    )

    assert cookies.session(credential.decode()) is None


async def test_the_sign_in_cookie_is_dropped_once_signed_in(browser):
    await sign_in(browser, await new_key(["read"]))

    assert SIGN_IN_COOKIE not in browser.cookies
