"""A service process's HTTP server: its app factory under uvicorn, on uvloop and httptools, and
the stop that ends its open live streams before the shutdown grace runs out."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import Iterator

from shared.settings import PlatformSettings
from shared.startup_objects import freeze_startup_objects


class ServerStop:
    """Whether this process's server has begun to stop (SIGTERM), and the open live streams to
    wake when it does.

    A page's live stream (Server-Sent Events) never ends by itself. Told of the stop, it ends
    like any finished response: its connection closes, the page's EventSource reconnects (to
    another instance), and the server goes on to its shutdown at once. Untold, uvicorn waited
    out the whole shutdown grace, then cancelled the stream and logged it as an ERROR with its
    traceback, at every restart of a service with a page open."""

    def __init__(self) -> None:
        self.begun = False
        self._streams: set[asyncio.Event] = set()

    @contextlib.contextmanager
    def wakes(self, stream_event: asyncio.Event) -> Iterator[None]:
        """While inside: ``stream_event`` is set when the stop begins (the stream's loop then
        sees ``begun`` and ends)."""
        self._streams.add(stream_event)
        try:
            yield
        finally:
            self._streams.discard(stream_event)

    def begin(self) -> None:
        self.begun = True
        for stream_event in self._streams:
            stream_event.set()


# One server per process (``serve``); apps served in a test's own process are never stopped.
SERVER_STOP = ServerStop()


# uvloop's event loop and httptools' HTTP parser, both C, instead of asyncio's selector loop and
# h11, both Python: every Kafka fetch, SQL round trip and HTTP request of a service goes through
# the loop's transports, which were a large share of each service's samples under load
# (tests/unit/test_server_loop.py counts the Python transport and parser calls they remove).
# Both are declared dependencies; "auto" is uvicorn's choice of them when installed, so a
# checkout whose environment was made before they were added still serves (on asyncio and h11,
# which that test then reports) until `uv sync` (deploy/local/ensure-tools.sh) installs them.
EVENT_LOOP = "auto"
HTTP_PARSER = "auto"


def serve(app_factory: str, *, settings: PlatformSettings, port: int) -> None:
    """Runs a service's app factory under uvicorn (logging stays ours: JSON with trace ids).

    On SIGTERM uvicorn waits for open requests to end before the lifespan's shutdown. Open live
    streams end themselves then (``SERVER_STOP``); any other request still open after
    ``shutdown_grace_s`` is ended, so that a service is never stopped only by SIGKILL, its
    shutdown never run."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:  # the app built, its workers begun: spared every full collection
                freeze_startup_objects()

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            SERVER_STOP.begin()
            await super().shutdown(sockets)

    config = uvicorn.Config(
        app_factory,
        factory=True,
        host="0.0.0.0",
        port=port,
        log_config=None,
        loop=EVENT_LOOP,
        http=HTTP_PARSER,
        timeout_graceful_shutdown=settings.shutdown_grace_s,
    )
    server = Server(config)
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
