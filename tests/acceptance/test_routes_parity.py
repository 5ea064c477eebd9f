"""``vigil config routes test`` against ``amtool config routes test`` on the same files.

Each case is a routing tree (one fixture file per scenario in ``routing/``) and a
label set; both tools must print the same receivers, in the same order.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cli import main as cli
from tests.acceptance.clients import need

HERE = Path(__file__).parent / "routing"

CASES: list[tuple[str, str]] = [
    # continue: both continuing routes and the first non-continuing match.
    ("continue", "team=db severity=critical"),
    # continue on the first route only, then the regex route stops the search.
    ("continue", "team=db"),
    # critical without a team: pager continues, nothing else matches → just pager.
    ("continue", "severity=critical"),
    # web matches the regex route, which does not continue.
    ("continue", "team=web env=prod"),
    # Only the last route matches; its receiver also appears earlier in the tree.
    ("continue", "env=prod"),
    # db in prod: db continues, teams stops, so the later env=prod route is not reached.
    ("continue", "team=db env=prod"),
    # Nothing matches: the root's receiver.
    ("continue", "alertname=Foo"),
    # Anchored alternation.
    ("regex", "service=api"),
    ("regex", "service=web"),
    # "apis" is not "api|web": no partial matches.
    ("regex", "service=apis"),
    ("regex", "service=db-12"),
    # The character class needs at least one digit.
    ("regex", "service=db-"),
    # A negative regex together with an equality matcher.
    ("regex", "job=node instance=192.168.1.1:9100"),
    ("regex", "job=node instance=10.0.3.4:9100"),
    # match_re from the old syntax, anchored as well.
    ("regex", "alertname=DiskFull"),
    ("regex", "alertname=HostDiskFull"),
    # An absent env is "" which is != "prod".
    ("negative", "alertname=X"),
    ("negative", "env=prod"),
    ("negative", "env=prod team=product severity=critical"),
    # team absent: "" does not match sre|ops, so !~ holds.
    ("negative", "env=prod severity=critical"),
    ("negative", "env=prod team=sre severity=critical"),
    # owner="" matches only when owner is absent or empty.
    ("negative", "env=prod owner=alice"),
    ("negative", "env=prod team=sre"),
    # Deep nesting: the innermost continuing route and its next sibling.
    ("nested", "region=eu severity=critical team=db service=payments"),
    ("nested", "region=eu severity=critical team=db"),
    # A child without a receiver inherits its parent's (eu-pager).
    ("nested", "region=eu severity=critical service=payments"),
    # No grandchild matches: the child itself.
    ("nested", "region=eu severity=critical"),
    # A continuing child and its sibling.
    ("nested", "region=eu team=db"),
    ("nested", "region=eu team=net"),
    ("nested", "region=eu"),
    # A continuing top-level route and the next sibling.
    ("nested", "region=us severity=critical"),
    ("nested", "region=ap"),
    ("nested", "severity=critical"),
    # The old match map: both labels must hold.
    ("legacy", "severity=critical team=db"),
    ("legacy", "severity=critical service=foo2"),
    ("legacy", "severity=critical service=foo3"),
    ("legacy", "severity=info team=web"),
    ("legacy", "severity=info team=db"),
    ("legacy", "severity=warning team=web service=baz"),
    # The same receiver from two routes is listed twice.
    ("duplicates", "a=1 b=1"),
    ("duplicates", "a=1"),
]


def amtool_receivers(config: Path, labels: list[str]) -> str:
    binary = need("amtool")
    done = subprocess.run(
        [binary, "config", "routes", "test", f"--config.file={config}", *labels],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 30
    assert {scenario for scenario, _ in CASES} == {
        p.name.split(".")[1] for p in HERE.glob("conf.*.yml")
    }


@pytest.mark.parametrize(("scenario", "labels"), CASES)
def test_same_receivers_as_amtool(
    scenario: str, labels: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = HERE / f"conf.{scenario}.yml"
    expected = amtool_receivers(config, labels.split())
    code = cli.main(["config", "routes", "test", "--config", str(config), *labels.split()])
    assert code == 0
    assert capsys.readouterr().out.strip() == expected
    # --verify.receivers agrees with what was printed.
    assert (
        cli.main(
            [
                "config",
                "routes",
                "test",
                "--config",
                str(config),
                f"--verify.receivers={expected}",
                *labels.split(),
            ]
        )
        == 0
    )


def test_the_installed_command_runs(tmp_path: Path) -> None:
    """The real ``vigil`` entry point, once, as a user would run it."""
    vigil = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "vigil"
    if not vigil.exists():
        pytest.skip("no .venv/bin/vigil")
    done = subprocess.run(
        [
            str(vigil),
            "config",
            "routes",
            "test",
            "--config",
            str(HERE / "conf.continue.yml"),
            "team=db",
            "severity=critical",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "db,pager,teams"
