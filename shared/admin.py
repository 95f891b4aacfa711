"""Operator commands: ``python -m shared.admin migrate | create-topics | send FILE``.

``send`` is what a hospital system does: it puts a FHIR message Bundle on its sender's own inbound
topic (keyed by the focus Task id) and waits for the network's response message; with
``FT_KAFKA_SASL_USERNAME`` set it logs in as that hospital (shared/messaging/hospital_login.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.db.migrations import upgrade_all
from shared.fhir.envelope import InvalidMessage, parse_message
from shared.fhir.references import organization_id
from shared.messaging import headers
from shared.messaging.hospital_login import HospitalLogin
from shared.messaging.topics import (
    CATALOGUE,
    HOSPITAL_RESPONSES,
    Topic,
    hospital_topics,
)
from shared.settings import PlatformSettings


class MissingTopic(LookupError):
    """The topic a command needs does not exist (topics are never created by accident)."""


async def existing_topics(bootstrap_servers: str, login: HospitalLogin | None = None) -> set[str]:
    """The topics there are (as a hospital: those its ACLs let it see)."""
    options = login.client_options() if login else {}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **options)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


@dataclass(frozen=True)
class TopicLayout:
    """How topics are created: partitions and replication (FT_KAFKA_TOPIC_PARTITIONS,
    FT_KAFKA_REPLICATION_FACTOR, FT_KAFKA_MIN_INSYNC_REPLICAS)."""

    # Partitions of each catalogue topic; None keeps the catalogue's own. A hospital's own topics
    # and the dead-letter twins keep theirs: few messages each, and a hospital's order in one.
    catalogue_partitions: int | None = None
    replication_factor: int = 1
    min_insync_replicas: int | None = None

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> TopicLayout:
        return cls(
            catalogue_partitions=settings.kafka_topic_partitions,
            replication_factor=settings.kafka_replication_factor,
            min_insync_replicas=settings.kafka_min_insync_replicas,
        )

    def partitions(self, topic: Topic) -> int:
        if self.catalogue_partitions is not None and topic in CATALOGUE:
            return self.catalogue_partitions
        return topic.partitions

    def new_topics(self, topic: Topic) -> list[NewTopic]:
        """The topic and its dead-letter twin (one partition), as the admin client creates them."""
        configs = (
            {"min.insync.replicas": str(self.min_insync_replicas)}
            if self.min_insync_replicas is not None
            else {}
        )
        wanted = [
            NewTopic(
                topic.name, self.partitions(topic), self.replication_factor, topic_configs=configs
            )
        ]
        if topic.has_dead_letter:
            wanted.append(
                NewTopic(topic.dead_letter, 1, self.replication_factor, topic_configs=configs)
            )
        return wanted


async def create_topics(
    bootstrap_servers: str,
    topics: tuple[Topic, ...] = CATALOGUE,
    layout: TopicLayout | None = None,
) -> list[str]:
    """Creates every given topic (and its dead-letter twin) that does not exist yet, laid out as
    ``layout`` says (by default as the settings say)."""
    layout = layout or TopicLayout.from_settings(PlatformSettings())
    existing = await existing_topics(bootstrap_servers)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        wanted = [new for topic in topics for new in layout.new_topics(topic)]
        missing = [t for t in wanted if t.name not in existing]
        if missing:
            # Another setup run may create them at the same moment.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()


async def send_and_wait(
    bootstrap_servers: str,
    document: bytes,
    timeout_s: float,
    login: HospitalLogin | None = None,
) -> str:
    """Sends a message to its sender's inbound topic, logged in as ``login`` if given; returns
    the response message (JSON) for it. Raises InvalidMessage when the message names no hospital
    that can have a topic, or another hospital than the login, and MissingTopic when its
    hospital has none yet (or the login may not see it)."""
    message = parse_message(document)
    key = (message.focus[0].split("/")[-1] if message.focus else message.message_id).encode()
    try:
        inbound, responses = hospital_topics(organization_id(message.sender) or "")
    except ValueError:
        raise InvalidMessage(
            f"MessageHeader.sender {message.sender[:80]!r} names no hospital with a topic "
            "(expected Organization/<id>)"
        ) from None
    user = login.sasl_username if login else None
    if user is not None and organization_id(message.sender) != user:
        raise InvalidMessage(
            f"MessageHeader.sender {message.sender[:80]!r} is not Organization/{user}, the "
            "hospital you log in as: a hospital sends only in its own name"
        )
    options = login.client_options() if login else {}
    existing = await existing_topics(bootstrap_servers, login)
    if inbound.name not in existing:
        raise MissingTopic(inbound.name)
    # The answer is on the sender's own topic, or the shared one if it is not in the directory.
    answers = [t for t in (HOSPITAL_RESPONSES.name, responses.name) if t in existing]
    consumer = AIOKafkaConsumer(
        *answers,
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        **options,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, enable_idempotence=True, **options
    )
    await consumer.start()
    await producer.start()
    try:
        # Read from the end as it is now, so only answers sent after ours are looked at.
        await consumer.seek_to_end()
        await producer.send_and_wait(
            inbound.name,
            document,
            key=key,
            headers=[(headers.MESSAGE_ID, message.message_id.encode())],
        )
        async with asyncio.timeout(timeout_s):
            async for record in consumer:
                response = parse_message(record.value or b"")
                if response.response_to == message.message_id:
                    return (record.value or b"").decode()
    finally:
        await producer.stop()
        await consumer.stop()
    raise TimeoutError  # the response topic ended without our answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply every service's database migrations")
    create = commands.add_parser(
        "create-topics", help="create the catalogue's topics and dead letters"
    )
    create.add_argument(
        "--hospital",
        action="append",
        metavar="ORGANIZATION_ID",
        help="create only this hospital's own inbound and response topics (repeatable)",
    )
    send = commands.add_parser("send", help="send a FHIR message as a hospital system would")
    send.add_argument("file", help="a FHIR message Bundle (JSON), e.g. examples/*.json")
    send.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the answer")
    args = parser.parse_args(argv)
    settings = PlatformSettings()
    if args.command == "migrate":
        upgrade_all(settings.database_url)
        print("migrations applied")
    elif args.command == "create-topics":
        try:
            topics = (
                tuple(t for hospital in args.hospital for t in hospital_topics(hospital))
                if args.hospital
                else CATALOGUE
            )
        except ValueError as invalid:
            print(f"not created: {invalid}", file=sys.stderr)
            return 2
        created = asyncio.run(
            create_topics(
                settings.kafka_bootstrap_servers, topics, TopicLayout.from_settings(settings)
            )
        )
        print(f"topics created: {', '.join(created) or 'none (all exist)'}")
    else:
        document = Path(args.file).read_bytes()
        try:
            answer = asyncio.run(
                send_and_wait(
                    settings.kafka_bootstrap_servers, document, args.timeout, HospitalLogin()
                )
            )
        except InvalidMessage as invalid:
            print(f"not sent: {invalid.reason}", file=sys.stderr)
            return 2
        except MissingTopic as missing:
            print(
                f"not sent: no topic {missing} that this login may use (an operator creates "
                "it with kafka.sh grant-hospital or python -m shared.admin create-topics "
                "--hospital <the sender's id>)",
                file=sys.stderr,
            )
            return 2
        except TimeoutError:
            print(f"no response within {args.timeout:.0f} s", file=sys.stderr)
            return 1
        print(json.dumps(json.loads(answer), indent=2, ensure_ascii=False))
        code = json.loads(answer)["entry"][0]["resource"]["response"]["code"]
        return 0 if code == "ok" else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
