"""The OpenTelemetry Collector's configuration (deploy/otel-collector/) keeps every error and
every slow trace, and both deployments send every span through it.

No collector binary runs here, so its configuration is read the way the collector reads it:
the files given with --config are merged (maps merged key by key, lists replaced), and every
component a pipeline names must be defined. docker compose and Kubernetes pass the same
sampling file, each with its own exporter file (tests/unit/test_compose_file.py checks the
compose side's wiring, tests/unit/test_kubernetes_manifests.py the schemas).
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.kubernetes_render import OVERLAYS, of_kind, render
from tests.support import ROOT

COLLECTOR = ROOT / "deploy" / "otel-collector"


def _merged(*names: str) -> dict[str, Any]:
    def merge(into: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
        for key, value in more.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                into[key] = merge(dict(into[key]), value)
            else:
                into[key] = value
        return into

    merged: dict[str, Any] = {}
    for name in names:
        merged = merge(merged, yaml.safe_load((COLLECTOR / name).read_text(encoding="utf-8")))
    return merged


EXPORTING = {"docker compose": "to-zipkin.yaml", "Kubernetes": "to-otlp.yaml"}


@pytest.mark.parametrize("where", EXPORTING)
def test_every_component_a_pipeline_names_is_defined(where: str) -> None:
    config = _merged("sampling.yaml", EXPORTING[where])
    (pipeline,) = config["service"]["pipelines"].values()
    for kind in ("receivers", "processors", "exporters"):
        assert pipeline[kind], kind
        assert set(pipeline[kind]) <= set(config[kind]), kind
    assert set(config["service"]["extensions"]) <= set(config["extensions"])


@pytest.mark.parametrize("where", EXPORTING)
def test_traces_are_tail_sampled_before_they_are_batched_and_exported(where: str) -> None:
    traces = _merged("sampling.yaml", EXPORTING[where])["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    assert traces["processors"] == ["memory_limiter", "tail_sampling", "batch"]


def test_every_error_and_every_slow_trace_is_kept_and_a_share_of_the_rest() -> None:
    sampling = _merged("sampling.yaml")["processors"]["tail_sampling"]
    # Top-level policies are or-ed: a trace any of them keeps is kept.
    policies = {policy["type"]: policy for policy in sampling["policies"]}
    assert set(policies) == {"status_code", "latency", "probabilistic"}
    assert policies["status_code"]["status_code"]["status_codes"] == ["ERROR"]
    assert 0 < policies["latency"]["latency"]["threshold_ms"] <= 1000
    assert 0 < policies["probabilistic"]["probabilistic"]["sampling_percentage"] < 100
    # A referral's spans arrive within seconds of its first: wait that long before deciding.
    assert sampling["decision_wait"] == "10s"


def test_services_send_spans_over_the_protocol_the_collector_receives() -> None:
    receiver = _merged("sampling.yaml")["receivers"]["otlp"]["protocols"]
    # shared/telemetry.py exports OTLP over HTTP (protobuf) to FT_OTLP_ENDPOINT/v1/traces.
    assert set(receiver) == {"http"}
    assert receiver["http"]["endpoint"].endswith(":4318")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_on_kubernetes_every_span_goes_through_one_sampling_collector(overlay: str) -> None:
    objects = render(overlay)
    config = of_kind(objects, "ConfigMap")
    assert config["fasttrack-config"]["data"]["FT_OTLP_ENDPOINT"] == (
        "http://fasttrack-otel-collector:4318"
    )
    assert config["fasttrack-config"]["data"]["FT_ZIPKIN_ENDPOINT"] == ""
    (collector_files,) = [
        m for name, m in config.items() if name.startswith("fasttrack-otel-collector")
    ]
    for name in ("sampling.yaml", "to-otlp.yaml"):
        assert collector_files["data"][name] == (COLLECTOR / name).read_text(encoding="utf-8")
    deployment = of_kind(objects, "Deployment")["fasttrack-otel-collector"]
    # All of a trace's spans must reach the instance that decides on it.
    assert deployment["spec"]["replicas"] == 1
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"].startswith("otel/opentelemetry-collector-contrib:")
    assert container["args"] == [
        "--config=/etc/fasttrack-collector/sampling.yaml",
        "--config=/etc/fasttrack-collector/to-otlp.yaml",
    ]
    service = of_kind(objects, "Service")["fasttrack-otel-collector"]
    assert service["spec"]["ports"][0]["port"] == 4318
    if overlay == "production":
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["FT_TRACE_STORE_OTLP_ENDPOINT"].startswith("http://otel-collector.")
