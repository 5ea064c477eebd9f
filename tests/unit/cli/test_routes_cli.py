"""``vigil config``: check, show and test routing, and its refusals."""

from pathlib import Path

import pytest

from cli import main as cli

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "configs" / "alertmanager.demo.yml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["config", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_check_show_and_test(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--config", str(DEMO))
    assert code == 0 and "3 receivers, 3 routes, 1 inhibit rules" in out and "SUCCESS" in out
    code, out, _ = run(capsys, "routes", "show", "--config", str(DEMO))
    assert code == 0 and '└── {severity="critical"}  receiver: on-call-pager' in out
    code, out, _ = run(
        capsys, "routes", "test", "--config", str(DEMO), "--tree", "service=db", "severity=critical"
    )
    assert code == 0 and out.strip().endswith("team-db,on-call-pager") and "Matching routes:" in out


def test_tenant_from_the_vigil_config(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIL_CONFIG", str(ROOT / "configs" / "vigil.yaml"))
    code, out, _ = run(capsys, "routes", "test", "--tenant", "demo", "severity=critical")
    assert code == 0 and out.strip() == "on-call-pager"
    # A tenant that is not in the file is an error, not the default routing.
    code, _, err = run(capsys, "routes", "test", "--tenant", "demo2", "a=b")
    assert code == 2 and "no tenant 'demo2'" in err


def test_verify_and_bad_labels(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "routes", "test", "--config", str(DEMO), "--verify.receivers=team-db", "service=db"
    )
    assert code == 0 and out.strip() == "team-db"
    code, out, _ = run(
        capsys, "routes", "test", "--config", str(DEMO), "--verify.receivers=x", "service=db"
    )
    assert code == 1 and "did not match" in out
    # Labels are name=value; a matcher is not a label.
    code, out, _ = run(capsys, "routes", "test", "--config", str(DEMO), "service=~db")
    assert code == 2 and "name=value" in out


def test_invalid_file_is_reported(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "am.yml"
    bad.write_text("route:\n  receiver: nobody\nreceivers: [{name: a}]\n")
    code, _, err = run(capsys, "check", "--config", str(bad))
    assert code == 2 and "undefined receiver 'nobody'" in err
    code, _, err = run(capsys, "check", "--config", str(tmp_path / "missing.yml"))
    assert code == 2 and "cannot read" in err


def test_check_says_who_is_told_what(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIL_CONFIG", str(ROOT / "configs" / "vigil.yaml"))
    code, out, _ = run(capsys, "check", "--tenant", "demo")
    assert code == 0 and "Notified:" in out
    assert "  on-call-pager: escalation policy 'page-oncall'" in out
    assert "  team-default: NOBODY is notified (no integration, no policy)" in out
