"""A one-line progress bar for long commands (``vigil train``, ``vigil simulate``)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """``bar(stage, done, total)`` redraws ``stage [#####     ]  50%  3.2s`` in place."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stdout
        self.width = width
        self.started = time.monotonic()
        self.stage: str | None = None
        self.drawn = -1.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            if self.stage is not None:
                self.stream.write("\n")
            self.stage, self.started, self.drawn = stage, time.monotonic(), -1.0
        share = done / total if total else 1.0
        if share - self.drawn < 0.02 and done < total:
            return  # redraw about fifty times per stage, not on every step
        self.drawn = share
        filled = int(share * self.width)
        elapsed = time.monotonic() - self.started
        bar = "#" * filled + " " * (self.width - filled)
        self.stream.write(f"\r{stage:<28} [{bar}] {share:4.0%} {elapsed:5.1f}s")
        if done >= total:
            self.stream.write("\n")
            self.stage = None
        self.stream.flush()
