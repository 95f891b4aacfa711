"""The two paths the benchmark drives: Fast Track end to end, and bare aiokafka two hops.

Fast Track (two Kafka hops, three services, PostgreSQL outbox/inbox at every hop):
  POST /fhir/$process-message -> referral -> fasttrack.referral.events.v1 -> telemedicine
  -> fasttrack.notification.requests.v1 -> notifier -> webhook (the neurologist's page).
Baseline, on the same broker: producer -> topic 1 -> consumer A, which produces -> topic 2 ->
consumer B (raw aiokafka, one offset commit per record, no database, no HTTP).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import sys
import time
from collections.abc import AsyncIterator

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.load import Flow
from tests.support import referral_bundle


class FastTrackFlow(Flow):
    """A referral POSTed to the referral service; it arrives when its page reaches the
    webhook (the neurologist's "Telestroke" page), which runs in a process of its own
    (bench.webhook_sink) and reports each page on its stdout."""

    def __init__(self, api: httpx.AsyncClient) -> None:
        super().__init__()
        self.api = api

    async def send(self) -> str:
        bundle, referral_id, _ = referral_bundle(teleconsult=True)
        body = json.dumps(bundle).encode()
        self.started[referral_id] = time.monotonic()
        response = await self.api.post(
            "/fhir/$process-message",
            content=body,
            headers={"Content-Type": "application/fhir+json"},
        )
        response.raise_for_status()
        return referral_id

    async def read_pages(self, sink: asyncio.StreamReader) -> None:
        """Notes each page the webhook process reports (``<referral id> <monotonic s>``)."""
        while line := await sink.readline():
            referral, _, at = line.decode().partition(" ")
            self.arrived.setdefault(referral, float(at))


@contextlib.asynccontextmanager
async def webhook_process(port: int, flow: FastTrackFlow) -> AsyncIterator[None]:
    """Runs bench.webhook_sink on ``port`` while the block runs, feeding ``flow`` its pages."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.webhook_sink", str(port), stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    reader = asyncio.create_task(flow.read_pages(process.stdout))
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):  # up to 20 s for the process to listen
                with contextlib.suppress(httpx.HTTPError):
                    await client.post(f"http://127.0.0.1:{port}/ready", content=b"{}")
                    break
                await asyncio.sleep(0.1)
        yield
    finally:
        process.terminate()
        await process.wait()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


class AiokafkaTwoHops(Flow):
    """The baseline: the same referral document as bytes through two topics."""

    def __init__(self, bootstrap: str) -> None:
        super().__init__()
        self.bootstrap = bootstrap
        self.run = secrets.token_hex(4)
        self.hop1, self.hop2 = f"bench.{self.run}.hop1", f"bench.{self.run}.hop2"
        self.payload = json.dumps(referral_bundle(teleconsult=True)[0]).encode()
        self._sent = 0
        self._tasks: list[asyncio.Task[None]] = []
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
        self.relay = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
        self.consumer_a = self._consumer(self.hop1, "a")
        self.consumer_b = self._consumer(self.hop2, "b")

    def _consumer(self, topic: str, name: str) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            topic,
            bootstrap_servers=self.bootstrap,
            group_id=f"bench-{name}-{self.run}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )

    async def start(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(self.hop1, 3, 1), NewTopic(self.hop2, 3, 1)])
        finally:
            await admin.close()
        for client in self._clients():
            await client.start()
        self._tasks = [asyncio.create_task(self._hop_a()), asyncio.create_task(self._hop_b())]

    def _clients(self) -> tuple[AIOKafkaProducer | AIOKafkaConsumer, ...]:
        return (self.producer, self.relay, self.consumer_a, self.consumer_b)

    async def _hop_a(self) -> None:
        async for record in self.consumer_a:
            await self.relay.send_and_wait(self.hop2, record.value, key=record.key)
            await self.consumer_a.commit()

    async def _hop_b(self) -> None:
        async for record in self.consumer_b:
            if record.key is not None:
                self.arrived[record.key.decode()] = time.monotonic()
            await self.consumer_b.commit()

    async def send(self) -> str:
        self._sent += 1
        key = f"{self.run}-{self._sent}"
        self.started[key] = time.monotonic()
        await self.producer.send_and_wait(self.hop1, self.payload, key=key.encode())
        return key

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for client in self._clients():
            await client.stop()
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([self.hop1, self.hop2])
        finally:
            await admin.close()
