"""The web app's live stream (/app/events), read directly as a browser's EventSource would: a
hospital hears only its own referrals, a page that reconnects with Last-Event-ID gets exactly
what it missed, a fresh page hears from where it was rendered, and a revoked session ends the
stream."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from tests.browser.conftest import Person
from tests.e2e.harness import post_referral_to
from tests.event_stream import Event, EventStream
from tests.support import as_hospital, hospital_message

pytestmark = pytest.mark.browser

HUB = "trang-hospital"


@contextlib.asynccontextmanager
async def signed_in_client(app_url: str, person: Person) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client holding ``person``'s session, as a browser would after signing in."""
    async with httpx.AsyncClient(base_url=app_url, timeout=30) as client:
        answer = await client.post(
            "/app/login", data={"username": person.username, "password": person.password}
        )
        assert answer.status_code == 303, answer.text
        # The cookie is Secure: httpx keeps it only for https, so it is sent by hand here.
        session = answer.cookies.get("ft_session")
        assert session, "no session cookie"
        client.headers["Cookie"] = f"ft_session={session}"
        yield client


@contextlib.asynccontextmanager
async def page_stream(
    client: httpx.AsyncClient, last_event_id: str | None = None, *, after: str | None = None
) -> AsyncIterator[EventStream]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    params = {"after": after} if after else {}
    async with client.stream("GET", "/app/events", headers=headers, params=params) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = EventStream(response)
        await stream.wait_connected()
        yield stream


def about(*referral_ids: str) -> Callable[[Event], bool]:
    return lambda event: event.data.get("referral_id") in referral_ids


def step(referral_id: str, event_code: str) -> Callable[[Event], bool]:
    return lambda e: e.data.get("referral_id") == referral_id and e.data["event"] == event_code


async def collect_until(
    stream: EventStream, last: Callable[[Event], bool], *referral_ids: str
) -> list[Event]:
    """The stream's events about the referrals, up to and including the first ``last`` one."""
    seen: list[Event] = []
    while not seen or not last(seen[-1]):
        seen.append(await stream.next_matching(about(*referral_ids)))
    return seen


def steps(events: list[Event]) -> list[tuple[str, str, str]]:
    # The status is the referral's when the event is read (a replay reads it later): not compared.
    return [(e.id, e.data["referral_id"], e.data["event"]) for e in events]


async def hub_accepts(referral_api: httpx.AsyncClient, referral_id: str) -> None:
    """The hub's own hospital system accepts (the FHIR path, not the board)."""
    bundle, _ = hospital_message(
        "referral-accepted",
        sender=HUB,
        receiver="sikao-hospital",
        referral_id=referral_id,
        status="accepted",
    )
    answer = await referral_api.post(
        "/fhir/$process-message",
        json=bundle,
        headers={**as_hospital(HUB), "Content-Type": "application/fhir+json"},
    )
    assert answer.status_code == 200, answer.text


async def test_a_page_that_reconnects_gets_exactly_what_it_missed_and_a_third_hospital_nothing(
    app_url: str,
    referral_api: httpx.AsyncClient,
    hub_doctor: Person,
    third_hospital_doctor: Person,
) -> None:
    async with (
        signed_in_client(app_url, hub_doctor) as hub,
        signed_in_client(app_url, third_hospital_doctor) as third,
        page_stream(hub) as witness,
        page_stream(third) as foreign,
    ):
        async with page_stream(hub) as page:
            first = await post_referral_to(referral_api, HUB)
            seen = await page.next_matching(step(first, "referral-requested"))
        # The page lost its connection; meanwhile a second referral comes and the first is
        # accepted. The witness stayed connected all along.
        second = await post_referral_to(referral_api, HUB)
        await hub_accepts(referral_api, first)
        accepted = step(first, "referral-accepted")
        witnessed = await collect_until(witness, accepted, first, second)
        missed = [e for e in witnessed if int(e.id) > int(seen.id)]

        async with page_stream(hub, last_event_id=seen.id) as resumed:
            replayed = await collect_until(resumed, accepted, first, second)

        assert steps(replayed) == steps(missed)
        assert (second, "referral-requested") in {(r, e) for _, r, e in steps(replayed)}
        assert seen.id not in {e.id for e in replayed}
        with pytest.raises(TimeoutError):
            await foreign.next_matching(about(first, second), within_s=3)


async def test_a_step_between_a_pages_render_and_its_stream_is_not_lost(
    app_url: str, referral_api: httpx.AsyncClient, hub_doctor: Person
) -> None:
    async with signed_in_client(app_url, hub_doctor) as hub, page_stream(hub) as witness:
        board = await hub.get("/app/board")
        rendered = re.search(r'data-feed-position="(\d+)"', board.text)
        assert rendered is not None
        # A referral arrives, and is in the feed, before the page's script opens its stream.
        arrived = await post_referral_to(referral_api, HUB)
        await witness.next_matching(step(arrived, "referral-requested"))
        async with page_stream(hub, after=rendered.group(1)) as page:
            await page.next_matching(step(arrived, "referral-requested"), within_s=10)


@pytest.mark.parametrize("last_event_id", ["999999999999", "not-a-position"])
async def test_a_page_with_an_unknown_last_event_id_is_told_to_reload(
    app_url: str, hub_doctor: Person, last_event_id: str
) -> None:
    async with (
        signed_in_client(app_url, hub_doctor) as hub,
        page_stream(hub, last_event_id=last_event_id) as stream,
    ):
        reload = await stream.next_matching(lambda e: e.kind == "reload", within_s=10)
    assert int(reload.id) < int("999999999999")  # it resumes from where the feed is


async def test_signing_out_ends_the_pages_stream(app_url: str, hub_doctor: Person) -> None:
    async with signed_in_client(app_url, hub_doctor) as hub, page_stream(hub) as stream:
        home = await hub.get("/app/board")
        token = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
        assert token is not None
        signed_out = await hub.post("/app/logout", data={"csrf_token": token.group(1)})
        assert signed_out.status_code == 303

        # The stream notices at its next heartbeat at the latest (every second here), and ends.
        with pytest.raises(AssertionError, match="the stream ended"):
            await stream.next_matching(lambda _: True, within_s=10)
        again = await hub.get("/app/events")
        assert again.status_code == 303
        assert again.headers["location"].startswith("/app/login")
