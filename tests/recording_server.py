"""A local HTTP server that stands in for a receiver (a webhook, Slack, Teams,
PagerDuty): it records every request and answers as it is told to, including badly.

    server = RecordingServer()
    url = await server.start()
    server.plan("status:500", "status:429:2", "hang:5", "ok")   # then server.default
    ...
    server.received  # [Received(path, headers, body, at, wall)]
    await server.stop()

``refused_url()`` gives a URL where nothing listens (connection refused).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class Received:
    """One request as the server got it."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()
    wall: float = 0.0  # time.time(), to compare with times Vigil reports


class RecordingServer:
    """Records requests; answers each by the next planned behaviour (then ``ok``)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._plan: deque[str] = deque()
        self._plan_by_path: dict[str, deque[str]] = {}
        self.default = "ok"  # the answer once the plan is used up
        self._runner: web.AppRunner | None = None

    def plan(self, *behaviours: str) -> None:
        """``ok``, ``status:CODE``, ``status:CODE:RETRY_AFTER``, ``hang:SECONDS``,
        ``json:{...}`` (200 with that JSON) or ``redirect:URL`` (307 to URL)."""
        self._plan.extend(behaviours)

    def plan_for(self, path: str, *behaviours: str) -> None:
        """Like ``plan``, for requests to one path only (they come before ``plan``'s)."""
        self._plan_by_path.setdefault(path, deque()).extend(behaviours)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        now = (time.monotonic(), time.time())
        self.received.append(Received(request.path, dict(request.headers), body, *now))
        for_path = self._plan_by_path.get(request.path)
        if for_path:
            behaviour = for_path.popleft()
        else:
            behaviour = self._plan.popleft() if self._plan else self.default
        if behaviour.startswith("json:"):  # a JSON answer, as Slack's Web API gives
            return web.json_response(json.loads(behaviour.removeprefix("json:")))
        if behaviour.startswith("redirect:"):  # a receiver that points elsewhere
            location = behaviour.removeprefix("redirect:")
            return web.Response(status=307, headers={"Location": location})
        kind, *args = behaviour.split(":")
        if kind == "hang":
            await asyncio.sleep(float(args[0]))
            return web.Response(status=200, text="late")
        if kind == "status":
            headers = {"Retry-After": args[1]} if len(args) > 1 else {}
            return web.Response(status=int(args[0]), text="planned failure", headers=headers)
        return web.Response(status=200, text="ok")

    async def start(self, port: int = 0) -> str:
        """Listen (on ``port``, or any free one); return the base URL."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def refused_url() -> str:
    """A local URL where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


class RecordingThread:
    """A ``RecordingServer`` on an event loop of its own thread, for synchronous tests:

    with RecordingThread() as server:
        url = server.url
        ... server.received ...
    """

    def __init__(self) -> None:
        self.server = RecordingServer()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""

    @property
    def received(self) -> list[Received]:
        return list(self.server.received)

    def __enter__(self) -> RecordingThread:
        self.thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
