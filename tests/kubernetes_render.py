"""Renders the Kubernetes overlays (deploy/k8s/) with kustomize and validates every object
offline: Kubernetes' own kinds against the Kubernetes OpenAPI schemas (kubernetes-validate, strict:
an unknown field is an error, as `kubectl apply` with server-side strict validation makes it),
CloudNativePG's and KEDA's against their CRDs' schemas and CEL rules, Strimzi's against Strimzi's
CRD schemas compiled by @kubernetes-models (node). The tools come from deploy/k8s/tools.sh."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import celpy
import jsonschema
import kubernetes_validate
import pytest
import yaml
from celpy.adapter import json_to_cel

from tests.support import ROOT

K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
# The Kubernetes release the manifests are checked against (CloudNativePG 1.27, Strimzi 0.49 and
# KEDA 2.18 all support it).
KUBERNETES_VERSION = "1.33"
# API groups whose kinds are checked against a CRD of deploy/k8s/tools.sh's crds/ folder.
CRD_FILES = {
    ("postgresql.cnpg.io", "Cluster"): "postgresql.cnpg.io_clusters.yaml",
    ("keda.sh", "ScaledObject"): "keda.sh_scaledobjects.yaml",
}
STRIMZI_GROUPS = ("kafka.strimzi.io", "core.strimzi.io")
INSTALL_HINT = "install the manifest tools first: bash deploy/k8s/tools.sh install"

Manifest = dict[str, Any]


@functools.cache
def tools_dir() -> Path:
    proc = subprocess.run(
        ["bash", str(K8S / "tools.sh"), "path"], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        pytest.fail(f"{proc.stderr.strip()} ({INSTALL_HINT})", pytrace=False)
    return Path(proc.stdout.strip())


@functools.cache
def render(overlay: str) -> tuple[Manifest, ...]:
    """Every object of the overlay, as `kustomize build` prints them."""
    proc = subprocess.run(
        [
            str(tools_dir() / "bin" / "kustomize"),
            "build",
            # The proxy's template is deploy/nginx's own file, outside deploy/k8s.
            "--load-restrictor",
            "LoadRestrictionsNone",
            str(K8S / "overlays" / overlay),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"kustomize build {overlay} failed:\n{proc.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(proc.stdout) if doc)


def of_kind(objects: tuple[Manifest, ...], kind: str) -> dict[str, Manifest]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def group_of(manifest: Manifest) -> str:
    api_version = str(manifest["apiVersion"])
    return api_version.split("/")[0] if "/" in api_version else ""


@dataclass(frozen=True)
class Problem:
    kind: str
    name: str
    error: str


def validate_all(objects: tuple[Manifest, ...]) -> list[Problem]:
    """What is wrong with each object, by the schema its kind has; [] when all are valid."""
    problems: list[Problem] = []
    strimzi: list[Manifest] = []
    for manifest in objects:
        kind, name = manifest["kind"], manifest["metadata"]["name"]
        group = group_of(manifest)
        if group in STRIMZI_GROUPS:
            strimzi.append(manifest)
        elif (group, kind) in CRD_FILES:
            problems += [Problem(kind, name, e) for e in _crd_errors(manifest, group, kind)]
        else:
            try:
                kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as invalid:
                path = "/".join(str(p) for p in invalid.path)
                problems.append(Problem(kind, name, f"{path}: {invalid.message}"))
            except kubernetes_validate.SchemaNotFoundError as missing:
                problems.append(Problem(kind, name, missing.message))
    return problems + _strimzi_errors(strimzi)


def _crd_errors(manifest: Manifest, group: str, kind: str) -> Iterator[str]:
    version = manifest["apiVersion"].split("/")[1]
    for error in _crd_validator(group, kind, version).iter_errors(manifest):
        yield f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
    yield from _rule_violations(_crd_schema(group, kind, version), manifest, "")


@functools.cache
def _crd_schema(group: str, kind: str, version: str) -> dict[str, Any]:
    crd = yaml.safe_load((tools_dir() / "crds" / CRD_FILES[group, kind]).read_text())
    served = {v["name"]: v for v in crd["spec"]["versions"] if v.get("served")}
    assert version in served, f"{kind} {group}/{version} is not served by its CRD"
    schema: dict[str, Any] = served[version]["schema"]["openAPIV3Schema"]
    return schema


@functools.cache
def _crd_validator(group: str, kind: str, version: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(strict_schema(_crd_schema(group, kind, version)))


def _rule_violations(schema: dict[str, Any], value: Any, path: str) -> Iterator[str]:
    """The CRD's CEL rules (x-kubernetes-validations) that ``value`` breaks, evaluated as the
    API server does on a create (rules about the old object, ``oldSelf``, have none to see)."""
    for rule in schema.get("x-kubernetes-validations", []):
        if "oldSelf" in rule["rule"]:
            continue
        result = _cel_program(rule["rule"]).evaluate({"self": json_to_cel(value)})
        if result != celpy.celtypes.BoolType(True):
            yield f"{path or '/'}: {rule.get('message') or rule['rule']} ({result!r})"
    if isinstance(value, dict):
        declared = schema.get("properties", {})
        for name, item in value.items():
            sub = declared.get(name, schema.get("additionalProperties"))
            if isinstance(sub, dict):
                yield from _rule_violations(sub, item, f"{path}/{name}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from _rule_violations(schema["items"], item, f"{path}/{index}")


@functools.cache
def _cel_program(rule: str) -> celpy.Runner:
    environment = celpy.Environment()
    return environment.program(environment.compile(rule))


def strict_schema(schema: Any) -> Any:
    """A CRD's structural schema (OpenAPI v3 with Kubernetes' extensions) as plain JSON Schema,
    read as the API server reads it with strict field validation: an object with declared
    properties takes no others unless it keeps unknown fields; int-or-string takes either;
    nullable takes null. (Hand-written: no kept Python library converts CRD schemas; this is the
    part of kubeconform's openapi2jsonschema the checks need.)"""
    if isinstance(schema, list):
        return [strict_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":
            # A map of names to schemas: its keys are property names, never keywords.
            out[key] = {name: strict_schema(sub) for name, sub in value.items()}
        else:
            out[key] = strict_schema(value)
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def _strimzi_errors(resources: list[Manifest]) -> list[Problem]:
    if not resources:
        return []
    node = shutil.which("node")
    assert node is not None, "node is needed to check Strimzi's resources (it comes with npm)"
    folder = tools_dir() / "strimzi"
    proc = subprocess.run(
        [node, str(folder / "strimzi.mjs")],
        input=json.dumps(resources),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"the Strimzi validator failed:\n{proc.stderr}"
    return [Problem(p["kind"], p["name"], p["error"]) for p in json.loads(proc.stdout)]
