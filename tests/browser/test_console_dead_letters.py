"""In a real browser, at the one origin, as the network's operator: an undelivered page is
replayed from the console and leaves the list (the notifier sends it), and the replay is in
the audit log; a message a consumer refused shows its reason and a payload with none of the
patient data planted in it, is replayed from the console, and that replay is audited too."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from playwright.async_api import Browser, Page, expect

from shared.messaging.topics import hospital_inbound
from tests.browser.conftest import Person
from tests.browser.console_sign_in import origin, signed_in_at_origin
from tests.e2e.harness import NOTIFIER_URL, WebhookReceiver
from tests.e2e.test_console_dead_letters import HOSPITAL_NUMBER, NAME, NOTE, planted_impersonation
from tests.support import TestStack, as_operator, at_least, eventually, referral_bundle

pytestmark = pytest.mark.browser

SLOW = 30_000  # ms, a busy 2-core machine


@pytest.fixture
async def operator_page(
    browser: Browser, stack: TestStack, app_url: str, operator: Person
) -> AsyncIterator[Page]:
    page = await signed_in_at_origin(browser, stack, operator, "/app/console/")
    yield page
    await page.context.close()


async def _undelivered(referral_id: str) -> list[dict[str, Any]] | None:
    async with httpx.AsyncClient(base_url=NOTIFIER_URL, headers=as_operator()) as notifier:
        letters: list[dict[str, Any]] = (await notifier.get("/dead-letters")).json()
    return [d for d in letters if d["referral_id"] == referral_id] or None


async def test_an_operator_replays_an_undelivered_page_it_drains_and_the_replay_is_audited(
    operator_page: Page,
    stack: TestStack,
    referral_api: httpx.AsyncClient,
    webhook: WebhookReceiver,
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    webhook.refuse.add(referral_id)
    try:
        sent = await referral_api.post(
            "/fhir/$process-message",
            json=bundle,
            headers={"Content-Type": "application/fhir+json"},
        )
        assert sent.status_code == 200, sent.text
        await eventually(lambda: _undelivered(referral_id), what="the page given up on")
    finally:
        webhook.refuse.discard(referral_id)

    page = operator_page
    await page.goto(f"{origin(stack)}/app/console/dead-letters")
    rows = page.locator(f'tr.undelivered[data-referral-id="{referral_id}"]')
    await expect(rows.first).to_be_visible(timeout=SLOW)
    for box in await rows.locator("input[type=checkbox]").all():
        await box.check()
    await page.locator("#replay-undelivered button[type=submit]").click()
    # Replayed: no longer waiting (the notifier answers with the rows left), and sent.
    await expect(rows).to_have_count(0, timeout=SLOW)
    await eventually(
        lambda: at_least(webhook.for_referral(referral_id)), what="the replay delivered"
    )

    await page.goto(f"{origin(stack)}/app/console/audit?{urlencode({'referral': referral_id})}")
    replay = page.locator(f'#notifier-replays tr.replay[data-referral-id="{referral_id}"]')
    await expect(replay.first).to_be_visible(timeout=SLOW)
    await expect(replay.first.locator(".who")).to_have_text(re.compile(r"^user:\d+$"))


async def test_a_refused_message_shows_no_planted_patient_data_and_its_replay_is_audited(
    operator_page: Page, stack: TestStack, services: object
) -> None:
    body, referral_id = planted_impersonation()
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(
            hospital_inbound("sikao-hospital").name, body, key=referral_id.encode()
        )
    finally:
        await producer.stop()

    page = operator_page
    # One dead letter per consumer group that read it (the referral service, telemedicine).
    letter = page.locator(f'article.dead-letter[data-key="{referral_id}"]').first

    async def listed() -> bool | None:
        await page.goto(f"{origin(stack)}/app/console/dead-letters")
        return True if await letter.count() else None

    await eventually(listed, what="the refused message on the console")
    await expect(letter.locator(".reason")).not_to_have_text(re.compile(r":\s*-$"))
    await letter.locator("summary").click()
    await expect(letter.locator("pre.payload")).to_contain_text('"Patient"')
    content = await page.content()
    for planted in (NAME, HOSPITAL_NUMBER, NOTE):
        assert planted not in content

    address = await letter.get_attribute("data-address")
    await letter.locator("input[type=checkbox]").check()
    async with page.expect_navigation():
        await page.locator("#replay-dead-letters button[type=submit]").click()
    await expect(page.locator(".replay-result")).to_contain_text("1")
    replayed = page.locator(f'article.dead-letter[data-address="{address}"]')
    await expect(replayed).to_have_class(re.compile("replayed"))
    await expect(replayed.locator("input[type=checkbox]")).to_have_count(0)

    await page.goto(f"{origin(stack)}/app/console/audit?{urlencode({'user': 'operator'})}")
    await expect(
        page.locator(f'tr.audit-event[data-entity="dead-letter:{address}"]')
    ).to_have_count(1)
