"""The web app over plain HTTP, for the end-to-end tests: sign a person in with the sign-in form
and keep their session cookie (sent by hand: the cookie is Secure, and httpx keeps Secure cookies
for https only), and read a page's CSRF token."""

from __future__ import annotations

import re

import httpx

SESSION_COOKIE = "ft_session"
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str, **headers: str
) -> httpx.Response:
    """POSTs the sign-in form; the answer (303 and a session cookie when it worked)."""
    return await client.post(
        "/app/login",
        data={"username": username, "password": password, "next": "/app/settings"},
        headers={"Authorization": "", **headers},
    )


def session_of(answer: httpx.Response) -> dict[str, str]:
    """The Cookie header that carries the session a sign-in answer opened."""
    cookie = answer.cookies.get(SESSION_COOKIE)
    if cookie is None:
        raise AssertionError(f"no session cookie in the answer ({answer.status_code})")
    return {"Cookie": f"{SESSION_COOKIE}={cookie}", "Authorization": ""}


async def signed_in(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    answer = await sign_in(client, username, password)
    assert answer.status_code == 303, answer.text
    return session_of(answer)


async def csrf_token(client: httpx.AsyncClient, session: dict[str, str]) -> str:
    """The session's synchronizer token, as a page's forms carry it."""
    page = await client.get("/app/settings", headers=session)
    assert page.status_code == 200, page.status_code
    found = _CSRF_FIELD.search(page.text)
    assert found is not None
    return found.group(1)
