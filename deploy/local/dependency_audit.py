"""pip-audit over exactly the versions uv.lock pins (every dependency group), read honestly.

pip-audit asks PyPI's per-release JSON (``/pypi/<name>/<version>/json``) for the advisories of
each pinned version. Where that data cannot be had, pip-audit only says "not found" per
package and exits 0, which would read as "no known vulnerability". So this script:

- first asks for one pinned release itself (short timeout); when the advisory data cannot be
  reached it says so, loudly, and skips the audit (exit 0), unless FT_REQUIRE_AUDIT=1, when it
  fails instead;
- otherwise runs pip-audit and fails on any known vulnerability, and also when some pinned
  versions could not be audited (a partial audit is not a clean one).

Usage: python deploy/local/dependency_audit.py  (from the repository root; needs uv and .venv)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

PYPI_RELEASE_JSON = "https://pypi.org/pypi/{name}/{version}/json"
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str


def pinned(requirements: str) -> list[tuple[str, str]]:
    """(name, version) of every ``name==version`` line of an exported requirements file."""
    pins = []
    for line in requirements.splitlines():
        spec = line.split(";")[0].split("\\")[0].strip()
        if "==" in spec and not spec.startswith(("#", "-")):
            name, version = spec.split("==", 1)
            pins.append((name.strip(), version.strip()))
    return pins


def advisory_data_unreachable(name: str, version: str, *, timeout_s: float = 10.0) -> str | None:
    """Why PyPI's advisory data for one pinned release cannot be read, or None if it can."""
    url = PYPI_RELEASE_JSON.format(name=name, version=version)
    try:
        response = httpx.get(url, timeout=timeout_s, follow_redirects=True)
    except httpx.HTTPError as error:
        return f"{url}: {type(error).__name__}: {error}"
    if response.status_code != 200:
        return f"{url} answered HTTP {response.status_code}"
    try:
        document = response.json()
    except ValueError:
        return f"{url} answered something other than JSON"
    if "vulnerabilities" not in document:
        return f"{url} carries no 'vulnerabilities' field"
    return None


def judge(report: dict[str, object]) -> Verdict:
    """A pip-audit JSON report (``-f json``) as pass or fail, with what to tell the reader."""
    dependencies = report.get("dependencies")
    if not isinstance(dependencies, list):
        return Verdict(False, "pip-audit: the report has no dependency list")
    vulnerable = [
        f"{d['name']} {d['version']}: {', '.join(v['id'] for v in d['vulns'])}"
        for d in dependencies
        if d.get("vulns")
    ]
    skipped = [
        f"{d['name']} ({d.get('skip_reason', '?')})" for d in dependencies if "skip_reason" in d
    ]
    if vulnerable:
        return Verdict(False, "pip-audit: known vulnerabilities:\n  " + "\n  ".join(vulnerable))
    if skipped:
        return Verdict(
            False,
            f"pip-audit: {len(skipped)} of {len(dependencies)} pinned versions could not be "
            "audited:\n  " + "\n  ".join(skipped),
        )
    return Verdict(True, f"pip-audit: {len(dependencies)} pinned versions, no known vulnerability")


def main() -> int:
    exported = subprocess.run(
        ["uv", "export", "--format", "requirements.txt", "--locked", "--all-groups", "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pins = pinned(exported)
    if not pins:
        print("pip-audit: uv export listed no pinned version", file=sys.stderr)
        return 1
    unreachable = advisory_data_unreachable(*pins[0])
    if unreachable is not None:
        required = os.environ.get("FT_REQUIRE_AUDIT") == "1"
        print(
            f"pip-audit: {'FAILED' if required else 'SKIPPED'}: the vulnerability data "
            f"(PyPI's per-release JSON) cannot be reached from this machine ({unreachable}); "
            f"{len(pins)} pinned versions were NOT audited. Run `make audit` where PyPI's JSON "
            "API is reachable (FT_REQUIRE_AUDIT=1 makes this a failure).",
            file=sys.stderr,
        )
        return 1 if required else 0
    with tempfile.TemporaryDirectory() as work:
        requirements = Path(work) / "requirements.txt"
        requirements.write_text(exported, encoding="utf-8")
        report_file = Path(work) / "audit.json"
        subprocess.run(
            [
                str(Path(sys.executable).parent / "pip-audit"),
                "--requirement",
                str(requirements),
                "--disable-pip",
                "--require-hashes",
                "--strict",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(report_file),
            ],
            check=False,
        )
        if not report_file.exists():
            print("pip-audit: it wrote no report", file=sys.stderr)
            return 1
        verdict = judge(json.loads(report_file.read_text(encoding="utf-8")))
    print(verdict.message, file=sys.stdout if verdict.passed else sys.stderr)
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    sys.exit(main())
