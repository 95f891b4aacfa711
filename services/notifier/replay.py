"""``python -m services.notifier.replay DELIVERY_ID...``: send dead-lettered deliveries again."""

from __future__ import annotations

import asyncio
import getpass
import sys

from services.notifier.config import SERVICE_NAME, NotifierSettings
from services.notifier.domain.errors import NotAFailedDelivery, UnknownDelivery
from services.notifier.service.replay import replay
from shared.db.pool import create_pool


async def replay_all(database_url: str, delivery_ids: list[str]) -> list[str]:
    """Returns the ids that were not failed deliveries (nothing to replay). The audit names
    the operating-system user who ran the command."""
    replayed_by = f"command-line:{getpass.getuser()}"
    pool = await create_pool(database_url, schema=SERVICE_NAME, max_size=1)
    refused = []
    try:
        async with pool.acquire() as connection:
            for delivery_id in delivery_ids:
                try:
                    await replay(connection, delivery_id=delivery_id, by=replayed_by)
                except (UnknownDelivery, NotAFailedDelivery):
                    refused.append(delivery_id)
    finally:
        await pool.close()
    return refused


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m services.notifier.replay DELIVERY_ID...")
    refused = asyncio.run(replay_all(NotifierSettings().database_url, sys.argv[1:]))
    for delivery_id in refused:
        print(f"{delivery_id}: not a failed delivery", file=sys.stderr)
    print(f"{len(sys.argv) - 1 - len(refused)} queued again (the notifier sends them)")
    sys.exit(1 if refused else 0)
