"""Readies a test stack in one process: the services' migrations, the catalogue's topics, the
demo directory (with its hospitals' own topics) and, with ``--people``, the development people
the browser tests sign in as.

    python -m tests.stack_setup [--people]   (settings from the FT_ environment, as each CLI)

It does what ``python -m shared.admin migrate``, ``python -m shared.admin create-topics``,
``python -m services.referral.load_directory deploy/demo/directory.json`` and
``python -m services.referral.accounts seed-dev`` do, through the same functions, but in one
interpreter: each of those starts by importing most of the project, several seconds of CPU
apiece on the 2-core machine, and the suite readies three stacks (the session's, the chaos
run's, the several instances'). The topics are made while the database is migrated and filled.
"""

from __future__ import annotations

import argparse
import asyncio

from services.referral.accounts import DEVELOPMENT_PASSWORD, DEVELOPMENT_PEOPLE, add_people
from services.referral.config import ReferralSettings
from services.referral.load_directory import load
from shared.admin import TopicLayout, create_topics
from shared.db.migrations import upgrade_all
from shared.messaging.topics import CATALOGUE
from tests.support import ROOT

DIRECTORY = ROOT / "deploy" / "demo" / "directory.json"


async def ready(*, people: bool) -> None:
    settings = ReferralSettings()
    topics = asyncio.create_task(
        create_topics(
            settings.kafka_bootstrap_servers, CATALOGUE, TopicLayout.from_settings(settings)
        )
    )
    try:
        # Alembic runs its own event loop (shared/db/migrations.py): off this one.
        await asyncio.to_thread(upgrade_all, settings.database_url)
        await load(DIRECTORY.read_text(encoding="utf-8"), settings)
        if people:
            await add_people(settings, DEVELOPMENT_PEOPLE, DEVELOPMENT_PASSWORD)
    finally:
        await topics


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.stack_setup")
    parser.add_argument("--people", action="store_true", help="also the development people")
    asyncio.run(ready(people=parser.parse_args().people))


if __name__ == "__main__":
    main()
