"""Vigil's own alerting rules, checked and unit-tested by Debian's ``promtool``."""

from __future__ import annotations

import subprocess

from tests.acceptance.clients import need
from tests.system import ROOT

RULES = ROOT / "configs" / "prometheus"


def promtool(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [need("promtool"), *arguments], cwd=RULES, capture_output=True, text=True, timeout=120
    )


def test_promtool_checks_the_rules() -> None:
    done = promtool("check", "rules", "vigil-rules.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 9 rules found" in done.stdout


def test_promtool_unit_tests_the_rules() -> None:
    done = promtool("test", "rules", "vigil-rules.test.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout
