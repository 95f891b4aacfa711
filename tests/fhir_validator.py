"""The independent FHIR validator of the test suite: HAPI FHIR's R4B instance validator
(deploy/local/fhir-validator.sh builds it), run as one long-lived JVM for the whole session.

It validates against the R4B core and the project's published conformance resources (the same
documents GET /fhir serves: profiles, ValueSets, CodeSystems, MessageDefinitions).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.fhir.conformance.catalogue import conformance_resources
from tests.support import ROOT

SCRIPT = ROOT / "deploy" / "local" / "fhir-validator.sh"
ERROR_SEVERITIES = ("error", "fatal")
# A known validator quirk, allowed explicitly and only this one: the language elements
# (Attachment.language, CodeSystem.concept.designation.language) have a *preferred* binding,
# which can never make an instance invalid, yet this validator reports 'th' (Thai, a valid
# BCP-47 code) as an error because it is not in its expansion of the languages ValueSet.
ALLOWED_ERROR = 'Code "th" is not in valueset: http://hl7.org/fhir/ValueSet/languages'


@dataclass(frozen=True)
class Issue:
    severity: str
    location: str
    message_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity} at {self.location}: {self.message}"


class FhirValidator:
    """One JVM; ``validate`` sends a resource and reads its issues back."""

    def __init__(self) -> None:
        classpath = subprocess.run(
            ["bash", str(SCRIPT), "classpath"], check=True, capture_output=True, text=True
        ).stdout.strip()
        self._folder = tempfile.TemporaryDirectory(prefix="fhir-conformance-")
        for resource in conformance_resources():
            name = f"{resource['resourceType']}-{resource['id']}.json"
            Path(self._folder.name, name).write_text(json.dumps(resource), encoding="utf-8")
        self._process = subprocess.Popen(
            [
                "java",
                "-Xmx1g",
                "-cp",
                classpath,
                "org.fasttrack.validator.ValidatorServer",
                self._folder.name,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._in, self._out = self._process.stdin, self._process.stdout
        ready = self._out.readline().strip()
        if ready != "READY":
            raise RuntimeError(f"the FHIR validator did not start (said {ready!r})")

    def validate(self, resource: dict[str, Any], profiles: Iterable[str] = ()) -> list[Issue]:
        self._in.write(" ".join(["VALIDATE", *profiles]) + "\n")
        self._in.write(json.dumps(resource, ensure_ascii=False) + "\n")
        self._in.flush()
        issues: list[Issue] = []
        while (line := self._out.readline()) and line.strip() != "END":
            severity, location, message_id, message = (line.rstrip("\n").split("\t") + [""] * 4)[:4]
            issues.append(Issue(severity, location, message_id, message))
        return issues

    def errors(self, resource: dict[str, Any], profiles: Iterable[str] = ()) -> list[Issue]:
        """The issues of error severity, less the one allowed quirk (ALLOWED_ERROR)."""
        return [
            issue
            for issue in self.validate(resource, profiles)
            if issue.severity in ERROR_SEVERITIES and not _allowed(issue)
        ]

    def close(self) -> None:
        self._in.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._folder.cleanup()


def _allowed(issue: Issue) -> bool:
    return issue.location.endswith(".language") and issue.message == ALLOWED_ERROR
