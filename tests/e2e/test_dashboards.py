"""Every query of the Grafana dashboards (deploy/grafana/dashboards) and every alert rule
(deploy/prometheus/alerts.yml) names metrics the services really export: a patient goes through
the real stack (referral, page, acknowledgement, door-in, CT, needle, door-out this month), then
every service's GET /metrics is scraped and each name the queries use must be in it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import yaml

from services.referral.domain.clock import bangkok_month
from tests.e2e.clinical_updates import clinical_update, ct, encounter, needle
from tests.e2e.harness import SERVICE_PORTS, WebhookReceiver
from tests.metrics_scrape import scrape, total
from tests.support import ROOT, as_hospital, at_least, eventually, referral_bundle

pytestmark = pytest.mark.e2e

DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
FHIR_JSON = {"Content-Type": "application/fhir+json"}
SPOKE, HUB = "sikao-hospital", "trang-hospital"
# Series Prometheus makes itself, not the services.
SYNTHETIC = {"up"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or"}
KEYWORDS |= {"unless", "offset", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are not functions,
    keywords, label names or label values."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # label values, format strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range and subquery durations
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", text)
    return {n for n in names if n.lower() not in KEYWORDS and not re.fullmatch(r"\d.*", n)}


def dashboard_queries() -> dict[str, str]:
    """'<dashboard>: <panel>' -> each query."""
    queries = {}
    for path in DASHBOARDS:
        dashboard: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                queries[f"{path.stem}: {panel['title']} ({target['refId']})"] = target["expr"]
    return queries


def rule_queries() -> dict[str, str]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return {
        f"alert {rule['alert']}": rule["expr"]
        for group in document["groups"]
        for rule in group["rules"]
    }


def test_the_query_reader_finds_metric_names_only() -> None:
    assert metric_names(
        "histogram_quantile(0.9, sum by (le, job) (rate(http_server_duration_milliseconds_bucket"
        '{http_status_code=~"5.."}[5m]))) > 3 * 604800 / max by (hospital) (x_7d) and up == 0'
    ) == {"http_server_duration_milliseconds_bucket", "x_7d", "up"}


async def _a_patient_this_month(referral_api: httpx.AsyncClient, webhook: WebhookReceiver) -> str:
    """A referral paged and acknowledged, with door-in, CT, needle and door-out at the spoke,
    all within the current Bangkok month (the KPI gauges' month)."""
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    sent = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    assert sent.status_code == 200, sent.text
    now = datetime.now(UTC)
    door_in = now - timedelta(minutes=20)
    if bangkok_month(door_in) != bangkok_month(now):  # the month began less than 20 min ago
        door_in = now - timedelta(seconds=40)
    step = (now - door_in) / 4
    update = clinical_update(
        referral_id,
        SPOKE,
        HUB,
        encounter(start=door_in, end=door_in + 3 * step),
        ct(door_in + step),
        needle(door_in + 2 * step, SPOKE),
    )
    told = await referral_api.post("/fhir/$process-message", json=update, headers=FHIR_JSON)
    assert told.status_code == 200, told.text
    await eventually(lambda: at_least(webhook.for_referral(referral_id)), what="the page")
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{SERVICE_PORTS['notifier']}",
        headers=as_hospital(HUB),
        timeout=30,
    ) as notifier:
        log = (await notifier.get("/deliveries", params={"referral": referral_id})).json()
        sent_one = next(d for d in log if d["status"] == "sent")
        acknowledged = await notifier.post(f"/deliveries/{sent_one['id']}/acknowledge")
        assert acknowledged.status_code == 200, acknowledged.text
    return referral_id


async def test_every_dashboard_query_and_alert_rule_names_metrics_the_services_export(
    referral_api: httpx.AsyncClient, webhook: WebhookReceiver
) -> None:
    await _a_patient_this_month(referral_api, webhook)

    async def all_measured() -> set[str] | None:
        names: set[str] = set()
        for port in SERVICE_PORTS.values():
            _, samples = await scrape(f"http://127.0.0.1:{port}")
            names |= {sample.name for sample in samples}
            if total(samples, "fasttrack_kpi_median_minutes", hospital=SPOKE) is not None:
                names.add("(kpi)")
            if total(samples, "fasttrack_notifier_acknowledgement_latency_seconds") is not None:
                names.add("(acknowledged)")
        return names if {"(kpi)", "(acknowledged)"} <= names else None

    exported = await eventually(all_measured, what="the KPI and acknowledgement figures")
    queries = {**dashboard_queries(), **rule_queries()}
    assert len(DASHBOARDS) == 2
    unknown = {
        where: sorted(metric_names(expr) - exported - SYNTHETIC)
        for where, expr in queries.items()
        if metric_names(expr) - exported - SYNTHETIC
    }
    assert unknown == {}
    assert all(metric_names(expr) for expr in queries.values())
