"""The gates CI runs (deploy/local/test.sh) refuse what they are there to refuse: a naive
datetime, an undeclared import, a uv.lock that drifted from pyproject.toml, coverage under the
floor, a known vulnerability. Each is planted in a small temporary project and the real tool,
with this project's configuration, is run on it. Offline and a few seconds in all."""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**_without_coverage(os.environ), "NO_COLOR": "1"},
    )


def _without_coverage(env: Mapping[str, str]) -> dict[str, str]:
    """The environment less this run's own coverage settings: a planted suite measured into the
    data file of the half of `make test` that runs it broke that half's combine (statement data
    beside branch data)."""
    return {name: value for name, value in env.items() if not name.startswith(("COV_", "COVERAGE"))}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ruff, with this project's pyproject.toml


@pytest.fixture
def ruff_project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def ruff(project: Path) -> subprocess.CompletedProcess[str]:
    return run(
        VENV_BIN / "ruff", "check", "--no-cache", "--output-format", "concise", ".", cwd=project
    )


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ("from datetime import datetime\n\nNOW = datetime.now()\n", "DTZ005"),
        ("from datetime import datetime\n\nDAY = datetime(2026, 11, 30, 9, 0)\n", "DTZ001"),
        ("import subprocess\n\nsubprocess.run('ls', shell=True)\n", "S602"),
        ("def check(value: int | None) -> int:\n    assert value\n    return value\n", "S101"),
    ],
    ids=["datetime.now() without a zone", "datetime() without a zone", "shell=True", "assert"],
)
def test_ruff_refuses_in_production_code(ruff_project: Path, source: str, rule: str) -> None:
    write(ruff_project / "services" / "planted.py", source)
    result = ruff(ruff_project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "services/planted.py:" in result.stdout
    assert rule in result.stdout


def test_ruff_accepts_aware_datetimes(ruff_project: Path) -> None:
    write(
        ruff_project / "services" / "planted.py",
        "from datetime import UTC, datetime\n\nNOW = datetime.now(UTC)\n",
    )
    result = ruff(ruff_project)
    assert result.returncode == 0, result.stdout


def test_ruff_lets_tests_assert_but_not_build_naive_datetimes(ruff_project: Path) -> None:
    write(
        ruff_project / "tests" / "test_planted.py",
        "from datetime import datetime\n\n\ndef test_it() -> None:\n    assert datetime.now()\n",
    )
    result = ruff(ruff_project)
    assert "S101" not in result.stdout
    assert "DTZ005" in result.stdout


# deptry: an import must be declared


def deptry_project(tmp_path: Path, dependencies: list[str]) -> Path:
    declared = ", ".join(f'"{name}"' for name in dependencies)
    write(
        tmp_path / "pyproject.toml",
        f'[project]\nname = "planted"\nversion = "0"\ndependencies = [{declared}]\n',
    )
    write(tmp_path / "planted" / "__init__.py", "")
    write(tmp_path / "planted" / "app.py", "import fastapi\nimport starlette\n")
    return tmp_path


def test_deptry_refuses_an_import_the_project_does_not_declare(tmp_path: Path) -> None:
    # starlette comes with FastAPI, but a project that imports it must say so.
    project = deptry_project(tmp_path, ["fastapi"])
    result = run(VENV_BIN / "deptry", "--no-ansi", ".", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "DEP003 'starlette' imported but it is a transitive dependency" in result.stderr


def test_deptry_accepts_the_project_once_the_import_is_declared(tmp_path: Path) -> None:
    project = deptry_project(tmp_path, ["fastapi", "starlette"])
    result = run(VENV_BIN / "deptry", "--no-ansi", ".", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr


# uv.lock must match pyproject.toml


def uv() -> str:
    found = shutil.which("uv")
    assert found is not None, "uv is installed by deploy/local/ensure-tools.sh"
    return found


@pytest.fixture
def locked_copy(tmp_path: Path) -> Path:
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_the_lock_of_this_project_matches_its_pyproject(locked_copy: Path) -> None:
    result = run(uv(), "lock", "--check", "--offline", cwd=locked_copy)
    assert result.returncode == 0, result.stderr


def test_a_lock_that_drifted_from_pyproject_is_refused(locked_copy: Path) -> None:
    pyproject = locked_copy / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert '    "itsdangerous>=2.2,<3",\n' in text
    pyproject.write_text(text.replace('    "itsdangerous>=2.2,<3",\n', ""), encoding="utf-8")
    # Not offline: a lock that no longer matches is resolved again to compare, which needs the
    # registry's package lists; `uv sync --locked` on a fresh machine never cached them, so
    # offline it failed for that reason instead (a fresh clone's first run).
    result = run(uv(), "lock", "--check", cwd=locked_copy)
    assert result.returncode != 0
    assert "needs to be updated" in result.stderr


@pytest.mark.parametrize(
    ("path", "command"),
    [
        ("deploy/local/ensure-tools.sh", "uv sync --locked"),
        ("Dockerfile", "RUN uv sync --locked --no-dev"),
    ],
)
def test_ci_and_the_image_install_only_from_a_lock_that_matches(path: str, command: str) -> None:
    text = (ROOT / path).read_text(encoding="utf-8")
    assert command in text
    assert "--frozen" not in text  # --frozen would install a drifted lock without a word


# Coverage: the floor is set, and a run under it fails


def coverage_floor() -> float:
    floor = PYPROJECT["tool"]["coverage"]["report"]["fail_under"]
    assert isinstance(floor, int | float)
    return float(floor)


def test_the_whole_suite_runs_under_coverage_with_a_floor() -> None:
    assert coverage_floor() >= 50
    test_script = (ROOT / "deploy/local/test.sh").read_text(encoding="utf-8")
    # Both halves measure; the floor (fail_under) is applied to what they measured together.
    assert "--cov --cov-report= --cov-fail-under=0" in test_script
    assert test_script.index("coverage combine") < test_script.index("coverage report ||")


def planted_suite(tmp_path: Path, tests: str) -> Path:
    write(
        tmp_path / "pyproject.toml",
        "[tool.pytest.ini_options]\n"
        "[tool.coverage.run]\nsource = ['planted']\n"
        f"[tool.coverage.report]\nfail_under = {coverage_floor()}\n",
    )
    write(
        tmp_path / "planted.py",
        "def used(x: int) -> int:\n    return x + 1\n\n\n"
        "def unused(x: int) -> int:\n    y = x * 2\n    y += 1\n    y -= 3\n    return y\n",
    )
    write(tmp_path / "test_planted.py", f"from planted import unused, used\n\n\n{tests}")
    return tmp_path


def pytest_with_coverage(project: Path) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--cov", cwd=project)


def test_a_run_under_the_coverage_floor_fails(tmp_path: Path) -> None:
    project = planted_suite(tmp_path, "def test_used() -> None:\n    assert used(1) == 2\n")
    result = pytest_with_coverage(project)
    assert result.returncode != 0, result.stdout
    assert "1 passed" in result.stdout  # the tests pass: the coverage alone fails the run
    assert "Coverage failure" in result.stdout or "FAIL Required test coverage" in result.stdout


def test_a_run_over_the_coverage_floor_passes(tmp_path: Path) -> None:
    project = planted_suite(
        tmp_path,
        "def test_both() -> None:\n    assert used(1) == 2\n    assert unused(1) == 0\n",
    )
    result = pytest_with_coverage(project)
    assert result.returncode == 0, result.stdout


# pip-audit's report, read by deploy/local/dependency_audit.py


@functools.cache
def dependency_audit() -> ModuleType:
    """The script as a module (deploy/local is no package)."""
    spec = importlib.util.spec_from_file_location(
        "dependency_audit", ROOT / "deploy/local/dependency_audit.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


AUDIT_CASES = {
    "no known vulnerability": (
        [{"name": "fastapi", "version": "0.163.2", "vulns": []}],
        True,
        "no known vulnerability",
    ),
    "a known vulnerability fails": (
        [
            {"name": "fastapi", "version": "0.163.2", "vulns": []},
            {"name": "jinja2", "version": "3.0.0", "vulns": [{"id": "GHSA-h5c8-rqwp-cp95"}]},
        ],
        False,
        "jinja2 3.0.0: GHSA-h5c8-rqwp-cp95",
    ),
    "a version that could not be audited fails": (
        [
            {"name": "fastapi", "version": "0.163.2", "vulns": []},
            {"name": "tzdata", "skip_reason": "Dependency not found on PyPI"},
        ],
        False,
        "1 of 2 pinned versions could not be audited",
    ),
}


@pytest.mark.parametrize(
    ("dependencies", "passed", "says"), AUDIT_CASES.values(), ids=AUDIT_CASES.keys()
)
def test_the_dependency_audit_passes_only_a_complete_clean_report(
    dependencies: list[dict[str, object]], passed: bool, says: str
) -> None:
    verdict = dependency_audit().judge({"dependencies": dependencies, "fixes": []})
    assert verdict.passed is passed
    assert says in verdict.message


def test_the_dependency_audit_reads_every_pin_of_the_exported_lock() -> None:
    exported = (
        "# This file was autogenerated by uv\n"
        "aiokafka==0.14.0 \\\n    --hash=sha256:00\n"
        "tzdata==2026.6 ; sys_platform == 'win32' \\\n    --hash=sha256:11\n"
    )
    assert dependency_audit().pinned(exported) == [("aiokafka", "0.14.0"), ("tzdata", "2026.6")]
