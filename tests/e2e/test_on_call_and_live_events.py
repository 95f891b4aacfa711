"""A stroke alert reaches the person on call, who acknowledges it with the link in the SMS; an
unanswered one climbs to the group and the backup; the hospital's web pages get every alert
live, acknowledge it there, and catch up on what they missed after a reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.e2e.harness import (
    BACKUP_PHONE,
    GROUP_PHONE,
    NOTIFIER_URL,
    ON_CALL_PHONE,
    ServiceProcesses,
    post_referral_to,
    texts_about,
    texts_to,
)
from tests.event_stream import EventStream
from tests.fakes.sms_gateway import FakeSmsGateway
from tests.support import as_hospital, eventually

pytestmark = pytest.mark.e2e

HOSPITAL = "kantang-hospital"
ACK_LINK = re.compile(r"(http://127\.0\.0\.1:\d+/ack/\S+)")


def msisdn(phone: str) -> str:
    return f"66{phone[1:]}"


async def _timeline(api: httpx.AsyncClient, referral_id: str) -> list[dict[str, Any]]:
    timeline: list[dict[str, Any]] = (await api.get(f"/referrals/{referral_id}")).json()["timeline"]
    return timeline


def _secret_in_spans(services: ServiceProcesses, secret: str) -> bool:
    return secret in json.dumps(services.spans("notifier"))


async def _request_spans(services: ServiceProcesses, route: str) -> list[dict[str, Any]]:
    return [
        s for s in services.spans("notifier") if s.get("attributes", {}).get("http.route") == route
    ]


async def test_the_on_call_person_is_paged_and_acknowledges_with_the_link_in_the_sms(
    referral_api: httpx.AsyncClient, sms_gateway: FakeSmsGateway, services: ServiceProcesses
) -> None:
    referral_id = await post_referral_to(referral_api, HOSPITAL)
    (page,) = await eventually(lambda: texts_about(sms_gateway, referral_id), what="the page")
    assert page["to"] == msisdn(ON_CALL_PHONE)
    # Dr On-call reads English; the SMS carries the minimum and the acknowledgement link.
    assert page["text"].startswith("Stroke referral from Sikao Hospital")
    assert "HN-6501234" not in page["text"]
    match = ACK_LINK.search(page["text"])
    assert match is not None, page["text"]
    link = match.group(1)

    async with httpx.AsyncClient(timeout=10) as browser:
        # Opening the link (a preview does the same) acknowledges nothing: it asks.
        opened = await browser.get(link)
        assert opened.status_code == 200
        assert "Acknowledge" in opened.text
        assert '<form method="post">' in opened.text
        assert "HN-6501234" not in opened.text
        pressed = await browser.post(link)
        assert pressed.status_code == 200
        assert "Acknowledged" in pressed.text
        assert "Practitioner/dr-on-call" in pressed.text
        # The page says so from then on; a pressed-again link changes nothing.
        assert "Acknowledged" in (await browser.get(link)).text
        assert (await browser.post(link)).status_code == 200
        # A damaged link is refused, with a page saying so.
        damaged = await browser.post(link[:-3] + "xyz")
        assert damaged.status_code == 404
        assert "not valid" in damaged.text

    async def acknowledged() -> list[dict[str, Any]] | None:
        steps = await _timeline(referral_api, referral_id)
        found = [s for s in steps if s["event"] == "notification-acknowledged"]
        return found or None

    (step,) = await eventually(acknowledged, what="the acknowledgement on the timeline")
    assert step["detail"]["recipient"] == ["Practitioner/dr-on-call", f"Organization/{HOSPITAL}"]
    assert step["detail"]["channel"] == ["sms"]
    await asyncio.sleep(4.5)  # two escalation periods: nobody else is paged
    assert await texts_to(sms_gateway, referral_id) == [msisdn(ON_CALL_PHONE)]
    # The link is a secret: traced requests show the route, never the token.
    spans = await eventually(lambda: _request_spans(services, "/ack/{token}"), what="spans")
    assert spans[0]["attributes"]["url.path"] == "/ack/{redacted}"
    assert not _secret_in_spans(services, link.rsplit("/", 1)[1])


async def test_an_unanswered_alert_climbs_to_the_group_then_the_backup(
    referral_api: httpx.AsyncClient, sms_gateway: FakeSmsGateway
) -> None:
    referral_id = await post_referral_to(referral_api, HOSPITAL)
    await eventually(lambda: texts_to(sms_gateway, referral_id), what="the page")
    paged_at = time.monotonic()

    async def reached_the_backup() -> list[dict[str, Any]] | None:
        texts = await texts_about(sms_gateway, referral_id)
        return texts if msisdn(BACKUP_PHONE) in [t["to"] for t in texts] else None

    texts = await eventually(reached_the_backup, timeout=30, what="the escalation to the backup")
    assert time.monotonic() - paged_at >= 6  # three periods of 2 s
    assert [t["to"] for t in texts] == [
        msisdn(ON_CALL_PHONE),
        msisdn(ON_CALL_PHONE),  # paged again
        msisdn(GROUP_PHONE),  # the group
        msisdn(BACKUP_PHONE),  # the backup, by SMS
    ]
    # The backup reads Thai.
    assert texts[-1]["text"].startswith("ส่งต่อผู้ป่วย stroke จาก Sikao Hospital")

    async def escalations() -> list[dict[str, Any]] | None:
        steps = await _timeline(referral_api, referral_id)
        found = [s for s in steps if s["event"] == "notification-escalated"]
        return found if len(found) == 3 else None

    steps = await eventually(escalations, what="three escalations on the timeline")
    assert [s["detail"]["recipient"][0] for s in steps] == [
        "Practitioner/dr-on-call",
        f"Group/{HOSPITAL}",
        "Practitioner/dr-backup",
    ]


@contextlib.asynccontextmanager
async def live_stream(
    client: httpx.AsyncClient, ticket: str, last_event_id: str | None = None
) -> AsyncIterator[EventStream]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    async with client.stream(
        "GET", "/live/events", params={"ticket": ticket}, headers=headers
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventStream(response)


async def test_the_hospital_pages_get_alerts_live_and_catch_up_after_a_reconnect(
    referral_api: httpx.AsyncClient, services: ServiceProcesses
) -> None:
    async with httpx.AsyncClient(base_url=NOTIFIER_URL, timeout=30) as notifier:
        # The hospital can check whom its alerts page now.
        roster = (await notifier.get("/on-call", headers=as_hospital(HOSPITAL))).json()
        assert roster["roles"]["stroke-neurologist"] == {
            "on_call": ["Practitioner/dr-on-call"],
            "backup": "Practitioner/dr-backup",
        }
        assert (await notifier.get("/live/events")).status_code == 401
        assert (await notifier.get("/live/events", params={"ticket": "forged"})).status_code == 401
        assert (await notifier.get("/live", params={"ticket": "forged"})).status_code == 401
        issued = await notifier.post("/live/tickets", headers=as_hospital(HOSPITAL))
        assert issued.status_code == 200
        ticket = issued.json()["ticket"]
        assert issued.json()["page"] == f"{NOTIFIER_URL}/live?ticket={ticket}"

        async with live_stream(notifier, ticket) as stream:
            await stream.wait_connected()
            referral_id = await post_referral_to(referral_api, HOSPITAL)
            alert = await stream.next_matching(
                lambda e: e.kind == "notification" and e.data.get("referral") == referral_id
            )
            assert alert.data["priority"] == "stat"
            assert alert.data["needs_ack"] is True
            assert alert.data["text"].startswith("ส่งต่อผู้ป่วย stroke")  # Kantang reads Thai
            assert "HN-6501234" not in json.dumps(alert.data, ensure_ascii=False)

            # Shown on an open page: the in-app notification is delivered.
            async def shown() -> list[dict[str, Any]] | None:
                log = (
                    await notifier.get(
                        "/deliveries",
                        params={"referral": referral_id},
                        headers=as_hospital(HOSPITAL),
                    )
                ).json()
                return [d for d in log if d["channel"] == "in-app" and d["delivered_at"]] or None

            await eventually(shown, what="the in-app receipt")

            # Acknowledged from the page: every open page of the hospital shows it.
            answered = await notifier.post(
                alert.data["ack_link"], headers={"Accept": "application/json"}
            )
            assert answered.status_code == 200
            assert answered.json()["acknowledged_by"] == f"web:Organization/{HOSPITAL}"
            acknowledgement = await stream.next_matching(
                lambda e: e.kind == "acknowledged" and e.data["alert"] == alert.data["alert"]
            )

        # A page that lost its connection after the alert gets what it missed, and no more.
        async with live_stream(notifier, ticket, last_event_id=alert.id) as resumed:
            missed = await resumed.next_matching(lambda e: e.data.get("referral") == referral_id)
            assert (missed.kind, missed.id) == ("acknowledged", acknowledgement.id)

        # Another hospital's feed never shows it.
        other = await notifier.post("/live/tickets", headers=as_hospital("ratsada-hospital"))
        async with live_stream(notifier, other.json()["ticket"], last_event_id="0") as foreign:
            with pytest.raises(TimeoutError):
                await foreign.next_matching(
                    lambda e: e.data.get("referral") == referral_id, within_s=2
                )

    async def on_timeline() -> list[dict[str, Any]] | None:
        steps = await _timeline(referral_api, referral_id)
        found = [s for s in steps if s["event"] == "notification-acknowledged"]
        return found or None

    (step,) = await eventually(on_timeline, what="the web acknowledgement on the timeline")
    assert step["detail"]["channel"] == ["in-app"]
    await eventually(lambda: _request_spans(services, "/live/events"), what="spans")
    assert not _secret_in_spans(services, ticket)
    steps = await _timeline(referral_api, referral_id)
    assert ("notification-delivered", ["in-app"]) in [
        (s["event"], s["detail"].get("channel")) for s in steps
    ]
