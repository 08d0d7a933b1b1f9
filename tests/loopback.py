"""A fake HTTP service on a free loopback port, for as long as a block runs: what the fake
price APIs and the fake Discord share. The fake itself (any object) is reachable from the
handler as `self.server.fake`, and is given its `url`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

Fake = TypeVar("Fake")


class LoopbackServer(ThreadingHTTPServer):
    """Threads die with the test; a client that hung up is no error of the server."""

    daemon_threads = True
    fake: Any

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@contextmanager
def serving_on_loopback(fake: Fake, handler: type[BaseHTTPRequestHandler]) -> Iterator[Fake]:
    """Serve `handler` (with `fake` on its server) on 127.0.0.1 until the block ends."""
    httpd = LoopbackServer(("127.0.0.1", 0), handler)
    httpd.fake = fake
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()
