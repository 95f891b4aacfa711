"""Which failures mean "the database or the broker is away" rather than "this input is bad".

An HTTP request that meets one answers 503 with ``Retry-After`` (the sender tries again); a Kafka
record that meets one is read again for as long as the outage lasts (never dead-lettered); any
other failure is the input's or the code's, and is refused or dead-lettered with its reason.
"""

from __future__ import annotations

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError

DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    # Refused, reset or unreachable (asyncpg raises a bare OSError when every address of the
    # host refused), and connect or acquire timeouts.
    OSError,
    TimeoutError,
    # SQLSTATE class 08, including a connection that died in the middle of a query.
    asyncpg.exceptions.PostgresConnectionError,
    # Starting up, shutting down (also "-m immediate"), or crashed and recovering.
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    # The client side of the same: a closed connection or a pool that is closing.
    asyncpg.exceptions.InterfaceError,
)

BROKER_UNAVAILABLE: tuple[type[Exception], ...] = (
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
)

INFRASTRUCTURE_ERRORS = DATABASE_UNAVAILABLE + BROKER_UNAVAILABLE

# What a sender is told to wait before it tries again during an outage.
RETRY_AFTER_S = 5


def is_infrastructure_failure(error: BaseException) -> bool:
    return isinstance(error, INFRASTRUCTURE_ERRORS)
