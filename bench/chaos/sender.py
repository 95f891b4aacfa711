"""A hospital system offering referrals over REST, as a real one would under faults: whatever is
not answered (connection refused or reset, timeout) or answered 5xx is sent again, the very same
message (same MessageHeader.id), after Retry-After or a short pause, until it is answered 200.
A referral answered 200 is the network's promise: the audit checks that it was kept."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.support import as_hospital, referral_bundle

FHIR_JSON = {"Content-Type": "application/fhir+json"}
PAUSE_S = 0.5
MAX_RETRY_AFTER_S = 5.0


@dataclass
class Offer:
    referral_id: str
    teleconsult: bool
    offered_at: float  # monotonic
    attempts: int = 0
    accepted_at: float | None = None  # the first 200
    refused: str | None = None  # a 4xx: the network said no (a defect in this run)


@dataclass
class Attempt:
    started_at: float
    answered_at: float
    outcome: str  # "200", "503", "500", "connection", "timeout", ...


@dataclass
class Sender:
    base_url: str
    concurrency: int = 4
    rate_per_s: float = 4.0
    # A referral not answered 200 this long after it was first offered is given up (reported).
    give_up_after_s: float = 300.0
    offers: list[Offer] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    _teleconsult: itertools.cycle[bool] = field(
        default_factory=lambda: itertools.cycle((True, False))
    )

    async def run(self, stop: asyncio.Event) -> None:
        """Offers referrals until ``stop`` is set; returns when every offer has an answer."""
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=15, headers=as_hospital("sikao-hospital")
        ) as client:
            await asyncio.gather(*(self._worker(client, stop) for _ in range(self.concurrency)))

    async def _worker(self, client: httpx.AsyncClient, stop: asyncio.Event) -> None:
        interval = self.concurrency / self.rate_per_s
        while not stop.is_set():
            began = time.monotonic()
            await self._offer(client, teleconsult=next(self._teleconsult))
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - began)))

    async def _offer(self, client: httpx.AsyncClient, *, teleconsult: bool) -> None:
        bundle, referral_id, _ = referral_bundle(teleconsult=teleconsult)
        body = json.dumps(bundle)
        offer = Offer(referral_id, teleconsult, time.monotonic())
        self.offers.append(offer)
        while time.monotonic() - offer.offered_at < self.give_up_after_s:
            offer.attempts += 1
            started = time.monotonic()
            pause = PAUSE_S
            try:
                response = await client.post(
                    "/fhir/$process-message", content=body, headers=FHIR_JSON
                )
            except httpx.TimeoutException:
                outcome = "timeout"
            except httpx.TransportError:
                outcome = "connection"
            else:
                outcome = str(response.status_code)
                if response.status_code == 200:
                    offer.accepted_at = time.monotonic()
                elif 400 <= response.status_code < 500:
                    offer.refused = f"{response.status_code}: {response.text[:300]}"
                else:
                    pause = _retry_after(response) or PAUSE_S
            self.attempts.append(Attempt(started, time.monotonic(), outcome))
            if offer.accepted_at is not None or offer.refused is not None:
                return
            await asyncio.sleep(pause)

    def answers(self) -> dict[str, int]:
        """How many attempts got which answer (200, 503, 500, connection, timeout, ...)."""
        return dict(Counter(a.outcome for a in self.attempts))

    def first_accept_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` to the first 200 for an attempt started after it."""
        answered = [
            a.answered_at for a in self.attempts if a.started_at >= moment and a.outcome == "200"
        ]
        return min(answered) - moment if answered else None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return min(MAX_RETRY_AFTER_S, max(0.0, float(value)))
    except ValueError:
        return None
