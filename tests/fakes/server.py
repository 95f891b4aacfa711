"""Serves a fake's ASGI app with uvicorn inside the running event loop, on loopback."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from fastapi import FastAPI

STARTUP_TIMEOUT_S = 10.0


async def serve_app(
    app: FastAPI, port: int, *, host: str = "127.0.0.1"
) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    """Starts `app` on host:port and returns once it accepts connections.

    The socket is bound here, so a busy port raises OSError in the caller (uvicorn would exit
    the process instead). Stop with `stop_app`.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        # A request a test left hanging must not hold the shutdown forever.
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            while not server.started:
                if task.done():
                    break
                await asyncio.sleep(0.01)
    except TimeoutError:
        task.cancel()
        sock.close()
        raise RuntimeError(f"uvicorn did not start on {host}:{port}") from None
    if not server.started:
        sock.close()
        error = task.exception() if not task.cancelled() else None
        raise RuntimeError(f"uvicorn did not start on {host}:{port}") from error
    return server, task


async def stop_app(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    server.should_exit = True
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            await task
    except TimeoutError:
        server.force_exit = True
        task.cancel()
