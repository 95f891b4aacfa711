"""The layer rules (pyproject.toml [tool.importlinter]) hold on the code, and import-linter
reports each kind of violation when one is planted in a copy of the packages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

DOMAIN_IS_PURE = "Domain packages are pure"
DOMAIN_IS_THE_BOTTOM = "the domain is the bottom layer"
SERVICES_ARE_INDEPENDENT = "No service imports another service"
SHARED_IMPORTS_NO_SERVICE = "shared/ imports no service"
SQLALCHEMY_ONLY_MIGRATES = "SQLAlchemy and Alembic only run the migrations"
RECORDS_BELOW_THEIR_READER = "A topic's record handling (messaging.consumer) imports no Kafka"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter over the packages under ``root``, with that root's pyproject.toml."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        # Wide enough that no contract name wraps in the report.
        env={**os.environ, "PYTHONPATH": str(root), "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_code_keeps_every_layer_rule() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@dataclass(frozen=True)
class Violation:
    module: str  # the planted module, relative to the repository root
    source: str
    broken: str  # the contract import-linter must name


# Each planted module has its own name, so one run of the linter over one copy checks them all.
PLANTED = {
    "a domain module imports FastAPI": Violation(
        "services/referral/domain/planted_fastapi.py", "import fastapi\n", DOMAIN_IS_PURE
    ),
    "a domain module reaches asyncpg through a shared module": Violation(
        "services/notifier/domain/planted_pool.py", "import shared.db.pool\n", DOMAIN_IS_PURE
    ),
    "a domain module imports fhir.resources": Violation(
        "services/telemedicine/domain/planted_fhir.py",
        "from fhir.resources.R4B.task import Task\n",
        DOMAIN_IS_PURE,
    ),
    "a domain module imports its service's adapters": Violation(
        "services/notifier/domain/planted_adapter.py",
        "from services.notifier.adapters import contacts_file\n",
        DOMAIN_IS_THE_BOTTOM,
    ),
    "one service imports another": Violation(
        "services/telemedicine/service/planted_other_service.py",
        "from services.referral.domain import model\n",
        SERVICES_ARE_INDEPENDENT,
    ),
    "shared imports a service": Violation(
        "shared/planted_service.py", "import services.notifier.config\n", SHARED_IMPORTS_NO_SERVICE
    ),
    "an adapter queries through SQLAlchemy": Violation(
        "services/referral/adapters/planted_orm.py",
        "from sqlalchemy import select\n",
        SQLALCHEMY_ONLY_MIGRATES,
    ),
    "a topic's record handling builds the service's Kafka consumer": Violation(
        # The copy's module replaced by one that imports its reader back.
        "shared/messaging/consumer.py",
        "from shared.messaging.service_consumer import ServiceConsumer\n",
        RECORDS_BELOW_THEIR_READER,
    ),
}


def broken_contracts(report: str) -> dict[str, str]:
    """The "Broken contracts" part of the report: each contract's name and what it says."""
    lines = report.split("Broken contracts", 1)[1].splitlines()
    headings = [
        i for i in range(len(lines) - 1) if lines[i].strip() and set(lines[i + 1].strip()) == {"-"}
    ]
    return {
        lines[at].strip(): "\n".join(lines[at + 2 : end])
        for at, end in zip(headings, [*headings[1:], len(lines)], strict=True)
    }


@pytest.fixture(scope="module")
def report_on_planted_violations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    copy = tmp_path_factory.mktemp("planted")
    for package in ("services", "shared"):
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    for violation in PLANTED.values():
        (copy / violation.module).write_text(violation.source, encoding="utf-8")
    result = lint_imports(copy)
    assert result.returncode != 0, result.stdout
    return broken_contracts(result.stdout)


@pytest.mark.parametrize("violation", PLANTED.values(), ids=PLANTED.keys())
def test_a_planted_violation_is_reported_under_the_rule_it_breaks(
    report_on_planted_violations: dict[str, str], violation: Violation
) -> None:
    planted = violation.module.removesuffix(".py").replace("/", ".")
    named_by = [
        contract for contract, details in report_on_planted_violations.items() if planted in details
    ]
    assert any(violation.broken in contract for contract in named_by), report_on_planted_violations
