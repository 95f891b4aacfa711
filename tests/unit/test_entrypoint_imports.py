"""Entry points are small modules side by side: a route or consumer module imports what routes
share from its package's ``deps.py`` only, never another entry point module (what two of them
need lives in deps.py, adapters/ or service/)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import ROOT

SHARED_DEPS = "deps"


def entry_point_imports(source: str, package: str) -> list[str]:
    """The entry point modules of ``package`` (e.g. services.referral.entrypoints) that
    ``source`` imports, other than deps."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            modules = [node.module, *names] if node.module == package else [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        found += [
            module
            for module in modules
            if module.startswith(f"{package}.") and module != f"{package}.{SHARED_DEPS}"
        ]
    return found


def _entry_point_modules() -> list[Path]:
    return sorted((ROOT / "services").glob("*/entrypoints/*.py"))


def test_no_entry_point_module_imports_another() -> None:
    modules = _entry_point_modules()
    assert len(modules) > 10
    crossing = {
        str(path.relative_to(ROOT)): imported
        for path in modules
        if (
            imported := entry_point_imports(
                path.read_text(encoding="utf-8"), f"services.{path.parts[-3]}.entrypoints"
            )
        )
    }
    assert crossing == {}


def test_the_rule_catches_a_route_module_importing_a_sibling() -> None:
    package = "services.referral.entrypoints"
    assert entry_point_imports("from services.referral.entrypoints.fhir_api import x", package)
    assert entry_point_imports("from services.referral.entrypoints import fhir_api", package)
    assert entry_point_imports("import services.referral.entrypoints.clock_views", package)
    assert not entry_point_imports("from services.referral.entrypoints.deps import x", package)
    assert not entry_point_imports("from services.referral.entrypoints import deps", package)
    assert not entry_point_imports("from services.referral.adapters import audit", package)
