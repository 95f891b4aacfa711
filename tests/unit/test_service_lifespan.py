"""The service lifespan: up at once whatever is away, and on the way down every resource is
released, in reverse order, whatever fails (fakes for the pool and the broker, no I/O)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import shared.runtime
from shared.runtime import ServiceRuntime, create_service_app
from shared.settings import PlatformSettings
from tests.support import eventually


class _Events(list[str]):
    """What happened, in order."""


class _FakePool:
    def __init__(self, events: _Events, *, reachable: bool) -> None:
        self.events = events
        self.reachable = reachable

    async def fetchval(self, *_: Any) -> int:
        if not self.reachable:
            raise ConnectionRefusedError("database away")
        return 1

    def acquire(self) -> Any:
        raise ConnectionRefusedError("database away")

    async def close(self) -> None:
        self.events.append("pool closed")


class _FakeSubscriber:
    def __init__(self, events: _Events, name: str) -> None:
        self.events, self.name = events, name

    async def start(self) -> None:
        self.events.append(f"{self.name} started")

    async def stop(self) -> None:
        self.events.append(f"{self.name} stopped")


class _FakeBroker:
    def __init__(self, events: _Events, *, reachable: bool) -> None:
        self.events = events
        self.reachable = reachable
        self.subscribers = [_FakeSubscriber(events, "consumer")]
        self.publishers: list[Any] = []
        self.running = False

    async def connect(self) -> None:
        if not self.reachable:
            raise ConnectionRefusedError("Kafka away")
        self.events.append("broker connected")

    async def ping(self, timeout: float) -> bool:  # noqa: ASYNC109 - the broker's own signature
        return self.reachable

    async def stop(self) -> None:
        self.events.append("broker stopped")


class _Worker:
    def __init__(self, events: _Events, name: str, *, fails_to_stop: bool = False) -> None:
        self.events, self.name, self.fails_to_stop = events, name, fails_to_stop

    def start(self) -> None:
        self.events.append(f"{self.name} started")

    async def stop(self) -> None:
        self.events.append(f"{self.name} stopped")
        if self.fails_to_stop:
            raise RuntimeError(f"{self.name} failed to stop")


@dataclass(frozen=True)
class _Container:
    service: str


def _app(
    monkeypatch: pytest.MonkeyPatch,
    events: _Events,
    *,
    reachable: bool,
    failing_worker: bool = False,
) -> FastAPI:
    pool = _FakePool(events, reachable=reachable)
    broker = _FakeBroker(events, reachable=reachable)

    async def create_pool(*_: Any, **__: Any) -> _FakePool:
        return pool

    monkeypatch.setattr(shared.runtime, "create_pool", create_pool)
    monkeypatch.setattr(shared.runtime, "create_broker", lambda *_, **__: broker)

    def wire(runtime: ServiceRuntime) -> _Container:
        runtime.relay = _Worker(events, "relay")  # type: ignore[assignment]
        runtime.workers.extend(
            [
                _Worker(events, "watcher", fails_to_stop=failing_worker),
                _Worker(events, "dispatcher"),
            ]
        )
        return _Container(service=runtime.name)

    return create_service_app(
        name="unit", settings=PlatformSettings(), routers=[], wire=wire, title="unit"
    )


@pytest.fixture
def events() -> _Events:
    return _Events()


async def _start_and_stop(app: FastAPI, events: _Events) -> None:
    """Runs the lifespan until the consumers have started, then shuts it down."""
    async with app.router.lifespan_context(app):
        await eventually(lambda: _have(events, "consumer started"), timeout=10, what="started")


async def _have(events: _Events, wanted: str) -> bool:
    return wanted in events


async def test_with_everything_reachable_shutdown_releases_in_reverse_order(
    monkeypatch: pytest.MonkeyPatch, events: _Events
) -> None:
    app = _app(monkeypatch, events, reachable=True)
    await _start_and_stop(app, events)
    shutdown = events[events.index("consumer started") + 1 :]
    assert shutdown == [
        "dispatcher stopped",
        "watcher stopped",
        "relay stopped",
        "broker stopped",
        "pool closed",
    ]


async def test_one_worker_failing_to_stop_does_not_skip_the_rest(
    monkeypatch: pytest.MonkeyPatch, events: _Events
) -> None:
    app = _app(monkeypatch, events, reachable=True, failing_worker=True)
    with pytest.raises(RuntimeError, match="watcher failed to stop"):
        await _start_and_stop(app, events)
    for released in ("dispatcher stopped", "relay stopped", "broker stopped", "pool closed"):
        assert released in events


async def test_a_start_while_kafka_and_the_database_are_away_waits_and_still_closes_cleanly(
    monkeypatch: pytest.MonkeyPatch, events: _Events
) -> None:
    app = _app(monkeypatch, events, reachable=False)
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.5)  # several connection attempts
        assert not any(event.endswith("started") for event in events)
    # Nothing was started, so nothing but the broker's half-made connection and the pool.
    assert "pool closed" in events
    assert "broker stopped" in events
    assert not any(event.endswith("started") for event in events)


def test_while_starting_live_answers_and_ready_says_starting(
    monkeypatch: pytest.MonkeyPatch, events: _Events
) -> None:
    app = _app(monkeypatch, events, reachable=False)
    with TestClient(app) as client:
        assert client.get("/health/live").status_code == 200
        for path in ("/health/ready", "/health"):
            response = client.get(path)
            assert response.status_code == 503
            assert response.json()["status"] == "starting"


async def test_the_container_the_wiring_returns_is_kept_for_the_entry_points(
    monkeypatch: pytest.MonkeyPatch, events: _Events
) -> None:
    app = _app(monkeypatch, events, reachable=True)
    async with app.router.lifespan_context(app):
        assert app.state.container == _Container(service="unit")
