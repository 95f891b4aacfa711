"""The console's dead letters (``/app/console/dead-letters``), for operators only.

Two kinds, each from where it lives:
- the records every consumer gave up on, in the ``.dlq`` topics on Kafka (where services
  meet): read from there by this service, each with its reason, the network's headers and a
  redacted payload (shared/messaging/redaction.py), replayed one or many at a time to the topic
  it came from; each replay audited (adapters/console_audit.py), which also marks it replayed;
- the notifier's undelivered pages, in its own schema: rows and their replay from the notifier
  (``/app/console/notifier/...``, services/notifier/entrypoints/console_fragments.py).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.referral.adapters import console_audit
from services.referral.entrypoints.deps import OperatorActionDep, OperatorPersonDep, render
from shared.messaging.dead_letter_browser import DeadLetterTopics, parse_address
from shared.runtime import RuntimeDep, ServiceRuntime

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

DEAD_LETTERS_PATH = "/app/console/dead-letters"
# At most this many records replayed by one request (the page lists no more per partition).
MAX_REPLAYED = 100


def _topics(runtime: ServiceRuntime) -> DeadLetterTopics:
    return DeadLetterTopics(
        bootstrap_servers=runtime.settings.kafka_bootstrap_servers,
        client_id=f"fasttrack-{runtime.name}-console",
    )


@router.get(DEAD_LETTERS_PATH, response_class=HTMLResponse)
async def dead_letters_page(
    request: Request,
    runtime: RuntimeDep,
    person: OperatorPersonDep,
    replayed: int | None = None,
    failed: int | None = None,
) -> HTMLResponse:
    kafka_error = False
    try:
        records = await _topics(runtime).newest()
    except Exception as error:  # the broker away: say so, the notifier's part still shows
        log.warning("dead-letter topics could not be read: %s", error)
        records, kafka_error = [], True
    async with runtime.pool.acquire() as connection:
        done = await console_audit.replayed_dead_letters(connection, [r.address for r in records])
    waiting = Counter(r.topic for r in records if r.address not in done)
    return render(
        request,
        "app/console/dead_letters.html",
        person=person,
        records=records,
        done=done,
        waiting=sorted(waiting.items()),
        kafka_error=kafka_error,
        replayed=replayed,
        failed=failed,
    )


@router.post(DEAD_LETTERS_PATH + "/replay")
async def replay_dead_letters(
    runtime: RuntimeDep,
    person: OperatorActionDep,
    record: Annotated[list[str], Form()],
) -> RedirectResponse:
    """Publishes each ticked record again to the topic it came from, and audits it."""
    topics = _topics(runtime)
    replayed = failed = 0
    for address in record[:MAX_REPLAYED]:
        parsed = parse_address(address)
        try:
            if parsed is None:
                raise LookupError(f"not a dead-letter address: {address!r}")
            found = await topics.read(*parsed)
            await DeadLetterTopics.replay(runtime.broker, found)
        except (LookupError, ValueError) as error:
            log.warning("dead letter %s not replayed: %s", address, error)
            failed += 1
            continue
        async with runtime.pool.acquire() as connection:
            await console_audit.record_dead_letter_replay(
                connection,
                user_id=person.user_id,
                address=address,
                key=found.key.decode(errors="replace") if found.key else None,
            )
        replayed += 1
    return RedirectResponse(
        f"{DEAD_LETTERS_PATH}?replayed={replayed}&failed={failed}", status_code=303
    )
