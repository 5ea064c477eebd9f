"""The ``vigil`` parser starts at once: choosing a command imports nothing of Ray, the
actors or the notifiers, and a config check of a bare ``alertmanager.yml`` needs no
cluster at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli.parser import SIMULATION_SCENARIOS, parser
from models.simulate import SCENARIOS

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("ray", "actors", "serve_app", "aiohttp", "xgboost", "redis", "numpy")


def modules_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has imported after running ``code``."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(done.stdout.split())


def test_the_parser_lists_the_simulator_s_scenarios() -> None:
    assert sorted(SIMULATION_SCENARIOS) == sorted(SCENARIOS)


def test_help_and_parsing_import_nothing_heavy() -> None:
    loaded = modules_after(
        "from cli.main import main\n"
        "from cli.parser import parser\n"
        "parser().parse_args(['config', 'routes', 'test', '--config', 'x.yml', 'a=b'])"
    )
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_routes_test_on_an_alertmanager_yml_imports_no_cluster() -> None:
    demo = ROOT / "configs" / "alertmanager.demo.yml"
    loaded = modules_after(
        "from cli.main import main\n"
        f"assert main(['config', 'routes', 'test', '--config', {str(demo)!r}, 'service=db']) == 0"
    )
    assert not loaded & {"ray", "actors", "serve_app", "aiohttp", "xgboost"}


def test_every_command_parses() -> None:
    p = parser()
    for argv in (
        ["up", "--detach"],
        ["up", "--ray-metrics"],
        ["logs", "--incident", "abc", "--follow", "--json"],
        ["logs", "--tenant", "acme", "--last", "20"],
        ["down"],
        ["status"],
        ["send", "--label", "a=b"],
        ["tenant", "create", "acme"],
        ["tenant", "integration-key", "acme"],
        ["config", "check", "--tenant", "acme"],
        ["keys", "rotate"],
        ["secret", "set", "acme", "slack", "--from-env", "X"],
        ["simulate", "--scenario", "evaluation"],
        ["train", "--simulated"],
        ["models"],
        ["bench", "escalation", "--quick"],
    ):
        assert p.parse_args(argv).command == argv[0]
