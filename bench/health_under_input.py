"""/health/live (is the event loop free?) while the referral service takes the largest input it
accepts, and refuses larger ones.

Starts the referral service alone against the test stack (a bare ``FT_TEST_PORT_OFFSET=...
python -m pytest`` of an e2e test leaves it running in .local-stack/test), then, while one
client asks GET /health/live back to back, posts: referrals of the largest accepted shape
(FT_BUNDLE_MAX_ENTRIES entries, every text at FT_MAX_TEXT_CHARS), a Bundle of 30,000 entries
(refused at the door) and a 2 MB body; first 5 s without that load, for comparison. Prints and
writes the /health/live latencies and each POST's status and time to
bench/results/health_under_input.json.

Usage: python -m bench.health_under_input [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.latency import latency_percentiles
from shared.limits import InputLimits
from tests.e2e.harness import ServiceProcesses
from tests.support import ROOT, TestStack, as_hospital, referral_bundle, shifted_port

PORT = shifted_port(24101)
RESULTS = ROOT / "bench" / "results" / "health_under_input.json"
FHIR_JSON = {"Content-Type": "application/fhir+json", **as_hospital("sikao-hospital")}


def largest_accepted() -> bytes:
    """The example referral filled up to the entry limit, each added entry carrying a note at
    the text limit: the most parsing work one accepted message can ask for."""
    limits = InputLimits()
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    # Thai and Latin halves: every note at the text limit, the whole still under the body limit.
    note = "ก" * (limits.max_text_chars // 2) + "a" * (limits.max_text_chars // 2)
    while len(bundle["entry"]) < limits.max_bundle_entries:
        n = len(bundle["entry"])
        bundle["entry"].append(
            {
                "fullUrl": f"https://fasttrack.example.org/fhir/Observation/x{n}-{referral_id}",
                "resource": {
                    "resourceType": "Observation",
                    "id": f"x{n}-{referral_id}",
                    "status": "final",
                    "code": {"text": "note"},
                    "subject": {"reference": f"Patient/p-{referral_id}"},
                    "note": [{"text": note}],
                },
            }
        )
    body = json.dumps(bundle, ensure_ascii=False).encode()
    assert len(body) <= limits.max_body_bytes, len(body)
    return body


def thirty_thousand_entries() -> bytes:
    bundle, _, _ = referral_bundle(teleconsult=False)
    bundle["entry"] = [bundle["entry"][0], *[bundle["entry"][-1]] * 29_999]
    return json.dumps(bundle, separators=(",", ":")).encode()


async def main(rounds: int) -> dict[str, Any]:
    stack = TestStack(state_dir=ROOT / ".local-stack" / "test")
    work = Path(tempfile.mkdtemp(prefix="health-under-input-"))
    processes = ServiceProcesses(stack, work, ports={"referral": PORT})
    await processes.start("referral")
    health: list[float] = []
    posts: list[dict[str, Any]] = []
    done = asyncio.Event()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", timeout=60) as client:

            async def poll() -> None:
                while not done.is_set():
                    started = time.perf_counter()
                    await client.get("/health/live")
                    health.append(time.perf_counter() - started)

            async def post(kind: str, body: bytes) -> None:
                started = time.perf_counter()
                response = await client.post(
                    "/fhir/$process-message", content=body, headers=FHIR_JSON
                )
                posts.append(
                    {
                        "kind": kind,
                        "bytes": len(body),
                        "status": response.status_code,
                        "seconds": round(time.perf_counter() - started, 3),
                    }
                )

            poller = asyncio.create_task(poll())
            await asyncio.sleep(5)  # the same machine without the load, for comparison
            idle = len(health)
            for _ in range(rounds):
                await asyncio.gather(
                    *(post("largest accepted", largest_accepted()) for _ in range(4))
                )
            await post("30,000 entries", thirty_thousand_entries())
            await post("2 MB body", b'{"resourceType":"Bundle","x":"' + b"x" * 2_000_000 + b'"}')
            done.set()
            await poller
    finally:
        processes.stop_all()
    result = {
        "health_live_idle": latency_percentiles(health[:idle]),
        "health_live_during_load": latency_percentiles(health[idle:]),
        "posts": posts,
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    print(json.dumps(asyncio.run(main(parser.parse_args().rounds)), indent=2))
