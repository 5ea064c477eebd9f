"""The real Prometheus and Alertmanager (Debian packages), started on this machine.

Used by the benchmarks (the side-by-side baseline) and by the acceptance tests (the
real clients Vigil must work with). Each runs in its own temporary directory on a
port given by the caller, with the configuration text the caller writes, and is
stopped (and its directory removed) by ``stop`` or by leaving the ``with`` block.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType

BLACKHOLE_CONFIG = (
    "route:\n  receiver: blackhole\n  group_by: ['alertname']\nreceivers:\n  - name: blackhole\n"
)


def find_binary(*names: str) -> str | None:
    """The first of ``names`` found on ``PATH``."""
    return next((b for b in map(shutil.which, names) if b), None)


class Service:
    """A server process with a readiness URL, a config file and a scratch directory."""

    BINARIES: tuple[str, ...] = ()
    CONFIG_NAME = "config.yml"

    def __init__(self, port: int, config: str) -> None:
        self.port = port
        self.config = config
        self.dir = Path(tempfile.mkdtemp(prefix=f"vigil-{self.BINARIES[0]}-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.dir / "output.log"

    @classmethod
    def binary(cls) -> str | None:
        """The installed binary, or ``None`` when the package is not installed."""
        return find_binary(*cls.BINARIES)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def arguments(self, config_path: Path) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 30.0) -> None:
        """Start the process and wait until ``/-/ready`` answers 200."""
        binary = self.binary()
        if binary is None:
            raise RuntimeError(f"none of {self.BINARIES} is installed")
        config_path = self.dir / self.CONFIG_NAME
        config_path.write_text(self.config)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [binary, *self.arguments(config_path)], stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        output = self.log.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"{self.BINARIES[0]} did not become ready:\n{output}")

    def stop(self) -> None:
        """Stop the process and remove its directory."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Service:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class Alertmanager(Service):
    """Prometheus Alertmanager, clustering off, state in its scratch directory."""

    BINARIES = ("prometheus-alertmanager", "alertmanager")
    CONFIG_NAME = "alertmanager.yml"

    def __init__(self, port: int, config: str = BLACKHOLE_CONFIG) -> None:
        super().__init__(port, config)

    @property
    def external_url(self) -> str:
        """The address it puts in notifications (``externalURL``, links)."""
        return self.url

    def arguments(self, config_path: Path) -> list[str]:
        return [
            f"--config.file={config_path}",
            f"--storage.path={self.dir}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--web.external-url={self.external_url}",
            "--cluster.listen-address=",
        ]


class Prometheus(Service):
    """Prometheus, evaluating rules and re-sending alerts every second."""

    BINARIES = ("prometheus",)
    CONFIG_NAME = "prometheus.yml"

    def arguments(self, config_path: Path) -> list[str]:
        return [
            f"--config.file={config_path}",
            f"--storage.tsdb.path={self.dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--rules.alert.resend-delay=1s",
        ]
