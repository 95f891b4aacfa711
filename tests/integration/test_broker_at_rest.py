"""The one-node broker (deploy/local/kafka.sh, as docker-compose.yml and the Kubernetes dev
overlay) at rest: its controller writes a no-op record batch to the metadata log every 5 s, not
every 0.5 s (Kafka's default, there so that a cluster's followers see the log alive; one node
has none). Each is an append and an fsync, replayed by the broker's metadata loader: with no
client at all, the KRaft threads' CPU was 6 of the broker's 23 ms a second."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import pytest

from tests.support import TestStack

pytestmark = pytest.mark.integration

# A record batch of a Kafka log segment starts with its base offset (int64) and the length of
# the rest (int32).
_BATCH_HEADER = struct.Struct(">qi")


def metadata_log_batches(data_dir: Path) -> int:
    """The record batches in the metadata log's segments (``__cluster_metadata-0/*.log``)."""
    batches = 0
    for segment in (data_dir / "__cluster_metadata-0").glob("*.log"):
        content = segment.read_bytes()
        at = 0
        while at + _BATCH_HEADER.size <= len(content):
            _, length = _BATCH_HEADER.unpack_from(content, at)
            if length <= 0 or at + _BATCH_HEADER.size + length > len(content):
                break  # a batch being written
            batches += 1
            at += _BATCH_HEADER.size + length
    return batches


async def test_the_one_node_broker_writes_the_metadata_log_rarely_at_rest(
    stack: TestStack,
) -> None:
    data_dir = stack.state_dir / "kafka" / "data"
    before = metadata_log_batches(data_dir)
    await asyncio.sleep(10)
    written = metadata_log_batches(data_dir) - before

    # Was 20 (one no-op every 0.5 s); now 2 in 10 s (3 if the broker creates a topic meanwhile).
    assert written <= 3, written
