"""`vigil bench`: lists the benchmarks with what each measures, runs one with its
arguments passed through, and refuses a name it does not know."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.bench import benchmarks, run_bench_command
from cli.parser import parser


def fake_bench(folder: Path) -> Path:
    (folder / "harness.py").write_text('"""Helpers, not a benchmark."""\n')
    (folder / "speed.py").write_text(
        '"""Speed benchmark: how fast,\nover two lines.\n\nMore."""\n'
        "import sys\n"
        "print('args', sys.argv[1:])\n"
    )
    return folder


def test_the_list_names_each_benchmark_with_what_it_measures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = fake_bench(tmp_path)
    assert benchmarks(folder) == {"speed": "Speed benchmark: how fast, over two lines."}
    assert run_bench_command(parser().parse_args(["bench"]), folder) == 0
    assert "speed  Speed benchmark" in capsys.readouterr().out


def test_a_benchmark_runs_with_its_arguments(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    args = parser().parse_args(["bench", "speed", "--quick", "--duration", "3"])
    assert run_bench_command(args, fake_bench(tmp_path)) == 0
    assert "args ['--quick', '--duration', '3']" in capfd.readouterr().out


def test_an_unknown_benchmark_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parser().parse_args(["bench", "nope"])
    assert run_bench_command(args, fake_bench(tmp_path)) == 2
    assert "no benchmark 'nope'; one of: speed" in capsys.readouterr().err


def test_the_real_benchmarks_are_listed() -> None:
    assert {"escalation", "correlation", "ingest"} <= benchmarks().keys()
