"""Reading a service's ``GET /metrics`` as Prometheus would: samples by name and labels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Mapping[str, str]
    value: float


def parse(text: str) -> list[Sample]:
    return [
        Sample(sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


async def scrape(base_url: str) -> tuple[str, list[Sample]]:
    """The raw text and its samples."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.get("/metrics")
    response.raise_for_status()
    return response.text, parse(response.text)


def total(samples: list[Sample], name: str, **labels: str) -> float | None:
    """The sum of the samples of ``name`` matching ``labels``; None when there is none."""
    found = [
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    return sum(found) if found else None
