"""The Kubernetes manifests (deploy/k8s/) render with kustomize, every object validates against
its schema (Kubernetes', Strimzi's, CloudNativePG's, KEDA's), and they keep the rules an operator
relies on: every topic of the catalogue exists with the partitions and replication the services
are told; no consumer scales past its topics' partitions; probes, resources, disruption budgets;
each hospital's Kafka user may do what the README's ACL table says and nothing else; no secret
is committed. Offline: the tools are fetched at install time (deploy/k8s/tools.sh)."""

from __future__ import annotations

import copy
import functools
import json
import re
from collections import defaultdict
from typing import Any

import pytest

from shared.messaging.broker import consumer_group
from shared.messaging.topics import CATALOGUE, hospital_inbound, hospital_responses
from tests.kubernetes_render import OVERLAYS, Manifest, of_kind, render, validate_all
from tests.support import ROOT, TOPICS_READ

SERVICES = {"referral": 8001, "telemedicine": 8002, "notifier": 8003}


def _config(overlay: str) -> dict[str, str]:
    data: dict[str, str] = of_kind(render(overlay), "ConfigMap")["fasttrack-config"]["data"]
    return data


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_validates_against_its_schema(overlay: str) -> None:
    problems = validate_all(render(overlay))
    assert problems == [], "\n".join(f"{p.kind}/{p.name}: {p.error}" for p in problems)


# A broken object of each kind of validation: the validators really look.
BROKEN: list[tuple[str, str, list[str], Any, str]] = [
    ("Deployment", "fasttrack-referral", ["spec", "replicaz"], 2, "replicaz"),
    ("PodDisruptionBudget", "fasttrack-notifier", ["spec", "minAvailable"], [1], "minAvailable"),
    ("ScaledObject", "fasttrack-notifier", ["spec", "maxReplicas"], 6, "maxReplicas"),
    ("Cluster", "fasttrack-db", ["spec", "instances"], "three", "instances"),
    ("KafkaTopic", "fasttrack.referral.events.v1", ["spec", "partitions"], "six", "partitions"),
    ("KafkaUser", "sikao-hospital", ["spec", "authentication", "type"], "plain", "type"),
    # Strimzi's schemas let unknown fields pass; its types (checked by tsc) do not.
    ("Kafka", "fasttrack", ["spec", "kafka", "listenerz"], [], "listenerz"),
    # A CEL rule of CloudNativePG's CRD (x-kubernetes-validations).
    (
        "Cluster",
        "fasttrack-db",
        ["spec", "imageCatalogRef"],
        {"apiGroup": "postgresql.cnpg.io", "kind": "ImageCatalog", "name": "pg", "major": 15},
        "mutually exclusive",
    ),
]


@functools.cache
def _problems_of_the_broken_objects() -> dict[str, str]:
    """Every broken object of BROKEN checked in one go (one run of each validator), by the name
    each is given: broken-<its place in BROKEN>."""
    broken_objects = []
    for number, (kind, name, path, value, _) in enumerate(BROKEN):
        broken = copy.deepcopy(of_kind(render("dev"), kind)[name])
        broken["metadata"]["name"] = f"broken-{number}"
        target = broken
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        broken_objects.append(broken)
    problems: dict[str, str] = defaultdict(str)
    for problem in validate_all(tuple(broken_objects)):
        problems[problem.name] += " " + problem.error
    return problems


@pytest.mark.parametrize(("kind", "name", "path", "value", "named"), BROKEN)
def test_a_broken_object_is_refused_by_its_schema(
    kind: str, name: str, path: list[str], value: Any, named: str
) -> None:
    errors = _problems_of_the_broken_objects().get(
        f"broken-{BROKEN.index((kind, name, path, value, named))}"
    )
    assert errors, f"{kind}/{name} with {path} = {value!r} was accepted"
    assert named in errors


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_catalogue_topic_has_a_kafka_topic_as_the_services_are_told(overlay: str) -> None:
    topics = of_kind(render(overlay), "KafkaTopic")
    config = _config(overlay)
    expected: dict[str, tuple[int, int, str]] = {}
    for topic in CATALOGUE:
        replicas, min_insync = (
            config["FT_KAFKA_REPLICATION_FACTOR"],
            config["FT_KAFKA_MIN_INSYNC_REPLICAS"],
        )
        expected[topic.name] = (int(config["FT_KAFKA_TOPIC_PARTITIONS"]), int(replicas), min_insync)
        if topic.has_dead_letter:
            expected[topic.dead_letter] = (1, int(replicas), min_insync)
    actual = {
        name: (
            t["spec"]["partitions"],
            t["spec"]["replicas"],
            str(t["spec"]["config"]["min.insync.replicas"]),
        )
        for name, t in topics.items()
    }
    assert actual == expected
    assert all(
        t["metadata"]["labels"]["strimzi.io/cluster"] == "fasttrack" for t in topics.values()
    )


def _single_node_metadata_idle_ms() -> int:
    """The local broker's setting (deploy/local/kafka.sh), which the one-node deployments share."""
    script = (ROOT / "deploy" / "local" / "kafka.sh").read_text()
    found = re.search(r"^SINGLE_NODE_METADATA_IDLE_MS=(\d+)$", script, re.MULTILINE)
    assert found is not None, "kafka.sh sets no SINGLE_NODE_METADATA_IDLE_MS"
    return int(found.group(1))


def test_one_kafka_node_writes_its_metadata_log_as_the_local_broker_and_three_as_kafka_does() -> (
    None
):
    """No-op records in the metadata log are for a cluster's followers: one node writes them as
    rarely as the local broker and docker-compose.yml; a cluster of three keeps Kafka's 500 ms."""
    single_node = _single_node_metadata_idle_ms()
    assert single_node == 5000
    dev = of_kind(render("dev"), "Kafka")["fasttrack"]["spec"]["kafka"]["config"]
    assert dev["metadata.max.idle.interval.ms"] == single_node
    production = of_kind(render("production"), "Kafka")["fasttrack"]["spec"]["kafka"]["config"]
    assert "metadata.max.idle.interval.ms" not in production


def test_production_survives_the_loss_of_a_kafka_node_and_of_a_database_instance() -> None:
    objects = render("production")
    config = _config("production")
    assert (config["FT_KAFKA_REPLICATION_FACTOR"], config["FT_KAFKA_MIN_INSYNC_REPLICAS"]) == (
        "3",
        "2",
    )
    kafka = of_kind(objects, "Kafka")["fasttrack"]["spec"]["kafka"]["config"]
    assert kafka["default.replication.factor"] == kafka["offsets.topic.replication.factor"] == 3
    assert kafka["min.insync.replicas"] == kafka["transaction.state.log.min.isr"] == 2
    assert kafka["unclean.leader.election.enable"] is False
    assert kafka["auto.create.topics.enable"] is False
    (pool,) = of_kind(objects, "KafkaNodePool").values()
    assert pool["spec"]["replicas"] >= 3
    assert sorted(pool["spec"]["roles"]) == ["broker", "controller"]  # KRaft, no ZooKeeper
    database = of_kind(objects, "Cluster")["fasttrack-db"]["spec"]
    assert database["instances"] == 3
    assert database["postgresql"]["synchronous"]["number"] >= 1
    assert database["postgresql"]["synchronous"]["dataDurability"] == "required"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_keda_scales_a_consumer_on_its_lag_never_past_the_partitions_it_reads(
    overlay: str, service: str
) -> None:
    objects = render(overlay)
    scaled = of_kind(objects, "ScaledObject")[f"fasttrack-{service}"]["spec"]
    assert scaled["scaleTargetRef"]["name"] in of_kind(objects, "Deployment")
    lag = [t["metadata"] for t in scaled["triggers"] if t["type"] == "kafka"]
    assert {m["consumerGroup"] for m in lag} == {consumer_group(service)}
    assert sorted(m["topic"] for m in lag) == sorted(t.name for t in TOPICS_READ[service])
    partitions = {
        name: t["spec"]["partitions"] for name, t in of_kind(objects, "KafkaTopic").items()
    }
    fewest = min(partitions[t.name] for t in TOPICS_READ[service])
    assert 1 <= scaled["minReplicaCount"] <= scaled["maxReplicaCount"] <= fewest


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_is_probed_sized_and_kept_through_drains(overlay: str) -> None:
    objects = render(overlay)
    deployments = of_kind(objects, "Deployment")
    budgets = list(of_kind(objects, "PodDisruptionBudget").values())
    services = of_kind(objects, "Service")
    for service, port in SERVICES.items():
        pod = deployments[f"fasttrack-{service}"]["spec"]["template"]
        (container,) = pod["spec"]["containers"]
        assert container["command"] == ["python", "-m", f"services.{service}"]
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert services[f"fasttrack-{service}"]["spec"]["ports"][0]["port"] == port
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}, name
        selecting = [
            b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ]
        assert len(selecting) == 1, f"{name} has {len(selecting)} PodDisruptionBudgets"


def test_the_migration_job_migrates_before_the_services_serve() -> None:
    job = of_kind(render("production"), "Job")["fasttrack-migrate"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "shared.admin", "migrate"]


def test_each_demo_hospital_kafka_user_may_use_its_own_topics_and_nothing_else() -> None:
    users = of_kind(render("dev"), "KafkaUser")
    directory = json.loads((ROOT / "deploy" / "demo" / "directory.json").read_text())
    hospitals = {
        e["resource"]["id"]
        for e in directory["entry"]
        if e["resource"]["resourceType"] == "Organization"
    }
    assert set(users) == hospitals
    for hospital, user in users.items():
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        granted = {
            (
                acl["resource"]["type"],
                acl["resource"]["name"],
                acl["resource"]["patternType"],
                tuple(sorted(acl["operations"])),
                acl.get("type", "allow"),
            )
            for acl in user["spec"]["authorization"]["acls"]
        }
        # The README's table (and deploy/local/kafka.sh grant-hospital).
        assert granted == {
            ("topic", hospital_inbound(hospital).name, "literal", ("Describe", "Write"), "allow"),
            ("topic", hospital_responses(hospital).name, "literal", ("Describe", "Read"), "allow"),
            ("group", f"{hospital}.", "prefix", ("Describe", "Read"), "allow"),
        }


def _secret_names(objects: tuple[Manifest, ...]) -> set[str]:
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("secretRef", "secretKeyRef"):
                if key in node:
                    names.add(node[key]["name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(objects)
    return names


def test_production_commits_no_secret_and_reads_only_the_operators_secrets() -> None:
    objects = render("production")
    assert of_kind(objects, "Secret") == {}
    # Made by the operators (docs/operations.md) and by CloudNativePG for the database's owner.
    assert _secret_names(objects) == {"fasttrack-secrets", "fasttrack-db-app"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_proxy_is_given_every_variable_its_template_reads(overlay: str) -> None:
    template = (ROOT / "deploy" / "nginx" / "templates" / "fasttrack.conf.template").read_text()
    proxy = of_kind(render(overlay), "Deployment")["fasttrack-proxy"]
    (container,) = proxy["spec"]["template"]["spec"]["containers"]
    given = {variable["name"] for variable in container["env"]}
    assert set(re.findall(r"\$\{(FT_PROXY_[A-Z_]+)\}", template)) <= given
    # The template itself, mounted where the image renders templates at start.
    files = of_kind(render(overlay), "ConfigMap")
    (templates,) = (c for name, c in files.items() if name.startswith("fasttrack-proxy-templates"))
    assert templates["data"]["fasttrack.conf.template"] == template
