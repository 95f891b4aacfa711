"""Checks docker-compose.yml the way Compose itself reads it.

`docker-compose config` parses, validates and interpolates the file without a
Docker engine, so these tests run anywhere the `docker-compose` binary is
installed (Debian: `apt-get install docker-compose`; Docker Compose v2 works too).
The normalised configuration it prints is then checked for what a user of
`docker compose up` would notice: which services exist, start order, ports and
the settings handed to the Fast Track services.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"

APP_PORTS = {"referral": 8001, "telemedicine": 8002, "notifier": 8003}
APP_SERVICES = sorted(APP_PORTS)
BUILT_SERVICES = [*APP_SERVICES, "setup"]
DEFAULT_WEBHOOK_URL = "http://webhook-demo:8099/notify"

INSTALL_HINT = (
    "the `docker-compose` binary is needed to validate docker-compose.yml "
    "(no Docker engine required): install it with "
    "`apt-get update && apt-get install -y docker-compose`"
)


def _compose_binary() -> str:
    path = shutil.which("docker-compose")
    if path is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return path


def _compose_env(overrides: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    """The caller's environment minus anything that would change the result."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("FT_", "COMPOSE_"))
    }
    env.update(overrides)
    return env


def _run_compose(
    *args: str, overrides: tuple[tuple[str, str], ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_compose_binary(), "-f", str(COMPOSE_FILE), *args],
        cwd=REPO_ROOT,
        env=_compose_env(overrides),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _as_mapping(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _yaml_to_mapping(yaml_text: str) -> dict[str, Any]:
    # 1. PyYAML in this interpreter, if the environment has it.
    try:
        yaml = importlib.import_module("yaml")
    except ImportError:
        pass
    else:
        data = yaml.safe_load(yaml_text)
        assert isinstance(data, dict), "docker-compose config printed no mapping"
        return data

    # 2. Docker Compose v2 prints JSON itself. (v1 answers an unknown option
    #    with its usage on stderr and exit code 0, hence the parse check.)
    proc = _run_compose("config", "--format", "json")
    if proc.returncode == 0 and (data := _as_mapping(proc.stdout)) is not None:
        return data

    # 3. docker-compose v1 is a Python program and PyYAML is one of its
    #    dependencies: let its own interpreter turn the YAML into JSON.
    binary = Path(_compose_binary())
    first_line = binary.read_bytes().split(b"\n", 1)[0].decode(errors="replace")
    if first_line.startswith("#!"):
        interpreter = first_line[2:].split()
        proc = subprocess.run(
            [
                *interpreter,
                "-c",
                "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)",
            ],
            input=yaml_text,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if proc.returncode == 0 and (data := _as_mapping(proc.stdout)) is not None:
            return data

    pytest.fail(
        "could not parse the output of `docker-compose config`: install PyYAML "
        "in the test environment or use Docker Compose v2 (`config --format json`)",
        pytrace=False,
    )


@functools.cache
def _config(overrides: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    proc = _run_compose("config", overrides=overrides)
    assert proc.returncode == 0, f"docker-compose config failed:\n{proc.stderr}"
    return _yaml_to_mapping(proc.stdout)


def _services(overrides: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    services = _config(overrides).get("services")
    assert isinstance(services, dict), "no services in the compose configuration"
    return services


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # KEY=VALUE list form
        pairs = (item.split("=", 1) for item in env)
        return {pair[0]: pair[1] if len(pair) == 2 else "" for pair in pairs}
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):  # short form: plain "started"
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def _published_ports(service: dict[str, Any]) -> set[tuple[int, int]]:
    """(host port, container port) pairs, whichever syntax Compose printed."""
    pairs: set[tuple[int, int]] = set()
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            if port.get("published") in (None, ""):
                continue
            pairs.add((int(port["published"]), int(port["target"])))
        else:
            parts = str(port).split("/", 1)[0].split(":")
            if len(parts) >= 2:
                pairs.add((int(parts[-2]), int(parts[-1])))
    return pairs


def _command(service: dict[str, Any]) -> str:
    command = service.get("command")
    if isinstance(command, list):
        return " ".join(command)
    return str(command or "")


def _healthcheck(service: dict[str, Any]) -> str:
    test = (service.get("healthcheck") or {}).get("test") or []
    return " ".join(test) if isinstance(test, list) else str(test)


def test_compose_file_is_valid() -> None:
    proc = _run_compose("config", "-q")
    assert proc.returncode == 0, f"docker-compose rejects docker-compose.yml:\n{proc.stderr}"


def test_compose_file_has_no_version_key() -> None:
    # Compose specification format: Docker Compose v2 warns about `version:`.
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert not re.search(r"^version\s*:", text, flags=re.MULTILINE)


def test_all_services_are_defined() -> None:
    expected = {
        "kafka",
        "postgres",
        "zipkin",
        "otel-collector",
        "setup",
        "webhook-demo",
        *APP_SERVICES,
    }
    assert expected <= set(_services())


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_starts_after_setup_succeeded(name: str) -> None:
    deps = _depends_on(_services()[name])
    assert deps.get("setup") == "service_completed_successfully"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_runs_its_module(name: str) -> None:
    assert _command(_services()[name]) == f"python -m services.{name}"


@pytest.mark.parametrize("name", BUILT_SERVICES)
def test_app_services_and_setup_use_the_repository_image(name: str) -> None:
    services = _services()
    build = services[name].get("build")
    assert isinstance(build, dict), f"{name} is not built from the repository"
    assert Path(build["context"]).resolve() == REPO_ROOT
    assert (REPO_ROOT / build.get("dockerfile", "Dockerfile")).is_file()
    images = {services[other].get("image") for other in BUILT_SERVICES}
    assert len(images) == 1, f"services built from the repo use several images: {images}"


@pytest.mark.parametrize("name", BUILT_SERVICES)
def test_service_settings_point_at_the_stack(name: str) -> None:
    env = _environment(_services()[name])
    assert env["FT_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["FT_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert env["FT_DATABASE_URL"] == "postgresql://fasttrack:fasttrack@postgres:5432/fasttrack"
    assert env["FT_ENVIRONMENT"] in {"development", "production"}


def test_notifier_webhook_defaults_to_the_demo_receiver() -> None:
    env = _environment(_services()["notifier"])
    assert env["FT_NOTIFIER_WEBHOOK_URL"] == DEFAULT_WEBHOOK_URL


def test_notifier_webhook_can_be_overridden_from_the_environment() -> None:
    url = "http://hooks.example.test/stroke-alerts"
    services = _services((("FT_NOTIFIER_WEBHOOK_URL", url),))
    assert _environment(services["notifier"])["FT_NOTIFIER_WEBHOOK_URL"] == url


@pytest.mark.parametrize(("name", "port"), sorted(APP_PORTS.items()))
def test_app_service_port_is_published_and_health_checked(name: str, port: int) -> None:
    service = _services()[name]
    assert (port, port) in _published_ports(service)
    assert f"http://127.0.0.1:{port}/health" in _healthcheck(service)
    assert service.get("restart") == "unless-stopped"


def test_trace_ui_is_the_zipkin_release_the_local_stack_runs_with_bounded_memory() -> None:
    zipkin = _services()["zipkin"]
    local = (REPO_ROOT / "deploy" / "local" / "zipkin.sh").read_text(encoding="utf-8")
    version = re.search(r"^ZIPKIN_VERSION=(\S+)$", local, flags=re.MULTILINE)
    assert version is not None
    assert zipkin["image"] == f"openzipkin/zipkin:{version.group(1)}"
    assert (9411, 9411) in _published_ports(zipkin)
    env = _environment(zipkin)
    assert env["STORAGE_TYPE"] == "mem"
    assert 0 < int(env["MEM_MAX_SPANS"]) <= 100_000
    assert "-Xmx" in env["JAVA_OPTS"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_export_spans_through_the_sampling_collector_to_the_trace_ui(
    name: str,
) -> None:
    service = _services()[name]
    env = _environment(service)
    assert env["FT_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert env["FT_ZIPKIN_ENDPOINT"] == ""  # not around the collector's sampling
    assert "otel-collector" in _depends_on(service)
    collector = _services()["otel-collector"]
    assert collector["image"].startswith("otel/opentelemetry-collector-contrib:")
    assert "zipkin" in _depends_on(collector)
    # The configuration the tests in test_trace_collector.py check, exporting to Zipkin.
    assert collector["command"] == [
        "--config=/etc/fasttrack-collector/sampling.yaml",
        "--config=/etc/fasttrack-collector/to-zipkin.yaml",
    ]
    (mount,) = collector["volumes"]
    if isinstance(mount, str):  # docker-compose v1 prints "source:target:mode"
        source, target, _ = mount.split(":")
    else:
        source, target = mount["source"], mount["target"]
    assert Path(source) == REPO_ROOT / "deploy" / "otel-collector"
    assert target == "/etc/fasttrack-collector"


def test_setup_prepares_database_topics_and_directory_once() -> None:
    setup = _services()["setup"]
    deps = _depends_on(setup)
    assert deps.get("kafka") == "service_healthy"
    assert deps.get("postgres") == "service_healthy"
    command = _command(setup)
    steps = [
        "python -m shared.admin migrate",
        "python -m shared.admin create-topics",
        "python -m services.referral.load_directory deploy/demo/directory.json",
    ]
    positions = [command.find(step) for step in steps]
    assert -1 not in positions, f"setup command misses a step: {command!r}"
    assert positions == sorted(positions), f"setup steps out of order: {command!r}"
    assert str(setup.get("restart", "no")) == "no"


def test_kafka_is_a_single_kraft_node_reachable_as_kafka_9092() -> None:
    kafka = _services()["kafka"]
    env = _environment(kafka)
    assert kafka["image"] == "apache/kafka:4.1.1"
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    # One node: a no-op record in the metadata log as rarely as the local broker writes one.
    script = (REPO_ROOT / "deploy" / "local" / "kafka.sh").read_text()
    assert f"SINGLE_NODE_METADATA_IDLE_MS={env['KAFKA_METADATA_MAX_IDLE_INTERVAL_MS']}\n" in script
    assert "kafka-broker-api-versions.sh --bootstrap-server localhost:9092" in _healthcheck(kafka)


def test_postgres_is_health_checked_and_keeps_its_data() -> None:
    postgres = _services()["postgres"]
    env = _environment(postgres)
    assert postgres["image"] == "postgres:15"
    assert env["POSTGRES_USER"] == env["POSTGRES_PASSWORD"] == env["POSTGRES_DB"] == "fasttrack"
    assert "pg_isready" in _healthcheck(postgres)
    volumes = [
        str(v.get("target", "")) if isinstance(v, dict) else str(v) for v in postgres["volumes"]
    ]
    assert any("/var/lib/postgresql/data" in volume for volume in volumes)


def test_people_reach_every_page_through_the_proxy_on_one_port() -> None:
    proxy = _services()["proxy"]
    assert str(proxy["image"]).startswith("nginx:")
    assert (8080, 8080) in _published_ports(proxy)
    env = _environment(proxy)
    # The upstreams are the services by their compose names and ports.
    assert env["FT_PROXY_REFERRAL"] == "referral:8001"
    assert env["FT_PROXY_NOTIFIER"] == "notifier:8003"
    assert env["FT_PROXY_TELEMEDICINE"] == "telemedicine:8002"
    # The image renders only these names: nginx's own $variables stay as they are.
    assert env["NGINX_ENVSUBST_FILTER"] == "^FT_PROXY_"
    volumes = [
        (str(Path(v["source"]).resolve()), v["target"])
        if isinstance(v, dict)
        else tuple(str(v).split(":")[:2])  # docker-compose v1: "source:target:mode"
        for v in proxy["volumes"]
    ]
    templates = str(REPO_ROOT / "deploy" / "nginx" / "templates")
    assert (templates, "/etc/nginx/templates") in volumes
    assert set(_depends_on(proxy)) == set(APP_SERVICES)
    assert set(_depends_on(proxy).values()) == {"service_healthy"}


def test_links_for_people_open_at_the_proxy_and_every_service_shares_the_identity_secret() -> None:
    services = _services()
    notifier = _environment(services["notifier"])
    assert notifier["FT_NOTIFIER_PUBLIC_URL"] == "http://localhost:8080"
    assert _environment(services["referral"])["FT_REFERRAL_PUBLIC_URL"] == "http://localhost:8080"
    secrets = {_environment(services[name])["FT_WEB_IDENTITY_SECRET"] for name in APP_SERVICES}
    assert len(secrets) == 1
    assert all(_environment(services[name])["FT_OPERATOR_API_KEYS"] for name in APP_SERVICES)


OBSERVABILITY = ("prometheus", "grafana")
DEPLOY = REPO_ROOT / "deploy"


def _mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path of the service's bind mounts."""
    mounts: dict[str, Path] = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                mounts[str(volume["target"])] = Path(str(volume["source"]))
        else:
            parts = str(volume).split(":")
            if len(parts) >= 2 and parts[0].startswith((".", "/")):
                mounts[parts[1]] = (REPO_ROOT / parts[0]).resolve()
    return mounts


@pytest.mark.parametrize("name", OBSERVABILITY)
def test_prometheus_and_grafana_start_only_with_the_observability_profile(name: str) -> None:
    assert _services()[name].get("profiles") == ["observability"]


def test_prometheus_scrapes_every_service_and_loads_the_alert_rules() -> None:
    prometheus = _services()["prometheus"]
    assert (9090, 9090) in _published_ports(prometheus)
    mounts = _mounts(prometheus)
    assert mounts["/etc/prometheus/alerts.yml"] == DEPLOY / "prometheus" / "alerts.yml"
    config = importlib.import_module("yaml").safe_load(
        mounts["/etc/prometheus/prometheus.yml"].read_text(encoding="utf-8")
    )
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    jobs = {
        job["job_name"]: [t for c in job["static_configs"] for t in c["targets"]]
        for job in config["scrape_configs"]
    }
    # The alert rules name the jobs fasttrack-<service>.
    assert jobs == {f"fasttrack-{name}": [f"{name}:{port}"] for name, port in APP_PORTS.items()}


def test_grafana_provisions_the_prometheus_source_and_the_dashboard_files() -> None:
    grafana = _services()["grafana"]
    assert (3000, 3000) in _published_ports(grafana)
    mounts = _mounts(grafana)
    assert mounts["/etc/grafana/provisioning"] == DEPLOY / "grafana" / "provisioning"
    assert mounts["/var/lib/grafana/dashboards"] == DEPLOY / "grafana" / "dashboards"
    yaml = importlib.import_module("yaml")
    provisioning = DEPLOY / "grafana" / "provisioning"
    sources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    assert [s["url"] for s in sources["datasources"]] == ["http://prometheus:9090"]
    providers = yaml.safe_load((provisioning / "dashboards" / "fasttrack.yml").read_text())
    assert [p["options"]["path"] for p in providers["providers"]] == ["/var/lib/grafana/dashboards"]
    uids = {
        json.loads(path.read_text(encoding="utf-8"))["uid"]
        for path in (DEPLOY / "grafana" / "dashboards").glob("*.json")
    }
    assert uids == {"fasttrack-system-health", "fasttrack-clinical-kpis"}
    assert _depends_on(grafana).get("prometheus") == "service_started"
