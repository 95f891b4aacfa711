"""Wait until a Kafka broker answers a metadata request (readiness probe for kafka.sh).

Usage: kafka_ready.py --bootstrap 127.0.0.1:19092 [--timeout 90] [--interval 0.5] [--pid N]

Exit status 0 when a DescribeCluster request (through aiokafka's admin client) answers and
reports at least one broker, 1 when the deadline passes first or when the process given by
--pid exits while we wait (no point waiting for a broker that died).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _probe(bootstrap: str, attempt_timeout: float) -> str:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="fast-track-ready-probe",
        request_timeout_ms=max(1000, int(attempt_timeout * 1000)),
        retry_backoff_ms=100,
    )
    try:
        await asyncio.wait_for(admin.start(), attempt_timeout)
        cluster = await asyncio.wait_for(admin.describe_cluster(), attempt_timeout)
    finally:
        # Closing a half-started client may fail; that changes nothing.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(admin.close(), attempt_timeout)
    brokers = cluster.get("brokers") or []
    if not brokers:
        raise RuntimeError("metadata answered without brokers")
    return f"cluster {cluster.get('cluster_id')}, {len(brokers)} broker(s)"


async def _main(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.timeout
    last_error = "no attempt made"
    while True:
        if not _alive(args.pid):
            print(f"kafka_ready: broker process {args.pid} exited", file=sys.stderr)
            return 1
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            info = await _probe(args.bootstrap, min(5.0, max(0.5, remaining)))
        except Exception as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        else:
            if not args.quiet:
                print(f"kafka_ready: {args.bootstrap} answers ({info})")
            return 0
        await asyncio.sleep(min(args.interval, max(0.0, deadline - time.monotonic())))
    print(
        f"kafka_ready: {args.bootstrap} did not answer within {args.timeout:g}s "
        f"(last error: {last_error})",
        file=sys.stderr,
    )
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds (default 90)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between attempts")
    parser.add_argument("--pid", type=int, default=None, help="give up if this process exits")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    # aiokafka logs every refused connection at ERROR level; those are expected here.
    logging.basicConfig(level=logging.CRITICAL)
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
