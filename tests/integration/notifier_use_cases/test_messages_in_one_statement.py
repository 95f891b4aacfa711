"""A notification request arriving alone at the notifier: its deliveries, the hospitals that may
read their log and its inbox claim written by one statement, no transaction. Counted from the
statements the connection really sends (asyncpg's query logger). Before, it was BEGIN, the inbox
claim, the deliveries' statement and COMMIT (here, inside the test's transaction, SAVEPOINT and
RELEASE for BEGIN and COMMIT): 4.

Nothing is applied twice or lost for it: a repeat writes nothing, a sender's id reused for other
content is refused with nothing written, and a request that reaches nobody (only its hospital's
pages) still tells its sender so, once (that message goes the transaction's way)."""

from __future__ import annotations

import json

from services.notifier.adapters import delivery_views
from services.notifier.adapters.contacts_document import directory_from
from services.notifier.domain.contacts import ContactBook
from services.notifier.entrypoints.consumers import wire_consumers
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, parse_message
from shared.messaging.topics import NOTIFICATION_REQUESTS
from tests.integration.notifier_use_cases.support import (
    CONTACTS,
    HOSPITAL,
    events,
    new_referral,
    stroke_alert,
    summary,
)
from tests.use_case_database import sent_statements
from tests.wired_consumers import WiredConsumers

SILENT = "uc-silent"


class _Dispatcher:
    """Counts the wake-ups a committed request gives the dispatcher (one that is not running:
    it leases itself nothing)."""

    lease_s = 30.0

    def __init__(self) -> None:
        self.woken = 0

    def room(self) -> int:
        return 0

    def take(self, deliveries: list[object]) -> None:
        pass

    def wake(self) -> None:
        self.woken += 1


def _notifier(
    connection: Connection, contacts: ContactBook = CONTACTS
) -> tuple[WiredConsumers, _Dispatcher]:
    wired = WiredConsumers(connection, service_name="notifier")
    dispatcher = _Dispatcher()
    wire_consumers(wired, dispatcher, contacts)  # type: ignore[arg-type]
    return wired, dispatcher


async def _claimed(connection: Connection, message: FhirMessage) -> int:
    count: int = await connection.fetchval(
        "SELECT count(*) FROM inbox WHERE message_id = $1", message.message_id
    )
    return count


async def _log(connection: Connection, referral_id: str) -> list[tuple[str, str, str]]:
    return summary(
        await delivery_views.deliveries_for_referral(
            connection, referral_id=referral_id, hospital=None
        )
    )


async def test_a_notification_request_arriving_alone_is_claimed_and_recorded_in_one_statement(
    connection: Connection,
) -> None:
    referral_id = new_referral()
    message = stroke_alert(referral_id)
    notifier, dispatcher = _notifier(connection)
    # A request before it: the connection's first statement with array parameters asks the
    # server about their types once (asyncpg keeps the answer for the connection's life).
    earlier = new_referral()
    await notifier.deliver(NOTIFICATION_REQUESTS, stroke_alert(earlier), key=earlier)

    async with sent_statements(connection) as sent:
        await notifier.deliver(NOTIFICATION_REQUESTS, message, key=referral_id)

    # Was 4: SAVEPOINT (BEGIN), the inbox claim, the deliveries' INSERT, RELEASE (COMMIT).
    assert len(sent) == 1, "\n".join(sent)
    assert await _log(connection, referral_id) == [
        (f"Organization/{HOSPITAL}", "in-app", "sent"),  # its live event in the statement
        (f"Organization/{HOSPITAL}", "webhook", "pending"),
        ("Practitioner/dr-anan", "line", "pending"),
    ]
    assert await connection.fetchval(
        "SELECT array_agg(hospital ORDER BY hospital) FROM referral_hospital "
        "WHERE referral_id = $1",
        referral_id,
    ) == sorted({HOSPITAL, "uc-community"})
    assert await _claimed(connection, message) == 1
    assert dispatcher.woken == 2  # sent at once, not at the dispatcher's next poll

    async with sent_statements(connection) as sent_again:
        await notifier.deliver(NOTIFICATION_REQUESTS, message, key=referral_id)

    # The same record again (a redelivery) is found in the inbox: nothing more written.
    assert len(sent_again) == 1, "\n".join(sent_again)
    assert len(await _log(connection, referral_id)) == 3
    assert await _claimed(connection, message) == 1
    assert notifier.dead_letters.sent == []


async def test_a_reused_id_for_another_request_is_refused_with_nothing_written(
    connection: Connection,
) -> None:
    first_referral, second_referral = new_referral(), new_referral()
    first = stroke_alert(first_referral)
    document = json.loads(stroke_alert(second_referral).to_json())
    document["entry"][0]["resource"]["id"] = first.message_id  # the id of another message
    reused = parse_message(json.dumps(document).encode())
    notifier, _ = _notifier(connection)
    await notifier.deliver(NOTIFICATION_REQUESTS, first, key=first_referral)

    await notifier.deliver(NOTIFICATION_REQUESTS, reused, key=second_referral)

    assert await _log(connection, second_referral) == []
    assert len(notifier.dead_letters.sent) == 1
    assert await _claimed(connection, first) == 1


async def test_a_request_that_reaches_nobody_still_tells_its_sender_once(
    connection: Connection,
) -> None:
    referral_id = new_referral()
    # A hospital with no roster, no channel and no system: only a live event on its pages.
    message = stroke_alert(referral_id, to=SILENT)
    notifier, dispatcher = _notifier(connection, directory_from({"hospitals": {SILENT: {}}}))

    await notifier.deliver(NOTIFICATION_REQUESTS, message, key=referral_id)
    await notifier.deliver(NOTIFICATION_REQUESTS, message, key=referral_id)

    assert await _log(connection, referral_id) == [(f"Organization/{SILENT}", "in-app", "sent")]
    assert await events(connection, referral_id) == [EventCode.NOTIFICATION_FAILED]
    assert await _claimed(connection, message) == 1
    # Was 1: the dispatcher was woken for it, with nothing to send (its one delivery was sent
    # by the statement); the repeat wakes nobody either.
    assert dispatcher.woken == 0
    assert notifier.dead_letters.sent == []
