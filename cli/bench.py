"""``vigil bench [NAME] [ARGS...]``: list the benchmarks in ``bench/``, or run one.

The benchmarks are scripts in the source tree (they start their own Vigil and, where it
is installed, the real Alertmanager); this runs one with the current interpreter, its
arguments passed through, so ``vigil bench escalation --quick`` is ``python
bench/escalation.py --quick``. Each prints its progress and a table, and writes JSON
under ``bench/results/``.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[1] / "bench"
HELPERS = {"__init__", "harness", "real_services", "nab_scoring"}  # modules, not benchmarks


def benchmarks(folder: Path = BENCH_DIR) -> dict[str, str]:
    """Benchmark name → the first sentence-paragraph of its docstring, on one line."""
    found = {}
    for path in sorted(folder.glob("*.py")):
        if path.stem in HELPERS:
            continue
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        found[path.stem] = " ".join(doc.split("\n\n", 1)[0].split())
    return found


def run_bench_command(args: argparse.Namespace, folder: Path = BENCH_DIR) -> int:
    known = benchmarks(folder) if folder.is_dir() else {}
    if not known:
        print(f"vigil: no benchmarks in {folder} (they come with the source tree)", file=sys.stderr)
        return 2
    if args.name is None:
        width = max(map(len, known))
        for name, summary in known.items():
            print(f"{name:<{width}}  {summary}")
        print(f"\nrun one: vigil bench NAME [--quick]   (results: {folder / 'results'})")
        return 0
    if args.name not in known:
        print(f"vigil: no benchmark {args.name!r}; one of: {', '.join(known)}", file=sys.stderr)
        return 2
    print(f"running {folder / (args.name + '.py')} {' '.join(args.args)}", flush=True)
    return subprocess.call([sys.executable, str(folder / f"{args.name}.py"), *args.args])
