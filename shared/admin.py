"""Operator commands: ``python -m shared.admin migrate | create-topics``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.db.migrations import upgrade_all
from shared.messaging.topics import CATALOGUE
from shared.settings import PlatformSettings


async def create_topics(bootstrap_servers: str) -> list[str]:
    """Creates every catalogue topic (and its dead-letter twin) that does not exist yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = []
        for topic in CATALOGUE:
            wanted.append(NewTopic(topic.name, topic.partitions, 1))
            if topic.has_dead_letter:
                wanted.append(NewTopic(topic.dead_letter, 1, 1))
        missing = [t for t in wanted if t.name not in existing]
        if missing:
            # Another setup run may create them at the same moment.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.admin")
    parser.add_argument("command", choices=["migrate", "create-topics"])
    args = parser.parse_args(argv)
    settings = PlatformSettings()
    if args.command == "migrate":
        upgrade_all(settings.database_url)
        print("migrations applied")
    else:
        created = asyncio.run(create_topics(settings.kafka_bootstrap_servers))
        print(f"topics created: {', '.join(created) or 'none (all exist)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
