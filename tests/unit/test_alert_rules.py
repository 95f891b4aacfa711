"""The alert rules (deploy/prometheus/alerts.yml) as Prometheus reads them: `promtool check
rules` accepts the file and `promtool test rules` proves each rule fires on its cause and stays
quiet otherwise (deploy/prometheus/alerts.test.yml). promtool comes from Debian's `prometheus`
package (deploy/local/ensure-tools.sh installs it for the suite)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from tests.support import ROOT

RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts.test.yml"


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail(
            "promtool checks the alert rules: `apt-get install prometheus` (Debian), or run "
            "FT_NEED_PROMTOOL=1 bash deploy/local/ensure-tools.sh",
            pytrace=False,
        )
    return subprocess.run(
        [binary, *args], cwd=RULES.parent, capture_output=True, text=True, timeout=120, check=False
    )


def test_prometheus_accepts_the_rule_file() -> None:
    checked = _promtool("check", "rules", RULES.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_rule_fires_on_its_cause_and_stays_quiet_otherwise() -> None:
    tested = _promtool("test", "rules", RULE_TESTS.name)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_case_where_it_fires() -> None:
    alerts = {
        rule["alert"]
        for group in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    fired = {
        case["alertname"]
        for test in yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert alerts - fired == set()
