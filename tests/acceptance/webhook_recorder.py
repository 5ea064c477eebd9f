"""A webhook receiver for the parity tests: keeps every body posted to it, with its
path, in arrival order (a thread of its own, so either system can post to it while
the test waits)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookRecorder(ThreadingHTTPServer):
    """Records ``(path, body)`` of every POST and answers 200."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with recorder.lock:
                    recorder.received.append((self.path, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", port), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        """Stop serving and close the listening socket."""
        self.shutdown()
        self.server_close()

    def bodies(self) -> list[tuple[str, bytes]]:
        """Everything received so far, in arrival order."""
        with self.lock:
            return list(self.received)
