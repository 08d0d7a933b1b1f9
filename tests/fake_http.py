"""A local HTTP server that plays back provider responses, so no test touches the internet.

Each test queues replies per path with `server.reply(path, ...)`; replies are served in
order and the last one repeats. Every request is recorded in `server.seen`. The `server`
fixture (tests/conftest.py) hands out one, reset for each test.

For fault injection a reply can also drip its head or body a byte at a time, announce a
Content-Length it does not keep, and stall before it closes. Every such loop is bounded by
the reply itself and ends early when the client leaves or the server is reset.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.loopback import LoopbackServer, serving_on_loopback


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before anything is sent
    drip_head: float = 0.0  # seconds between bytes of the status line and headers
    drip: float = 0.0  # seconds between bytes of the body
    content_length: int | None = None  # announced instead of the body's true length
    stall: float = 0.0  # after the body, before the connection closes


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str


class FakeServer:
    """Routes by path; queued replies are consumed in order, the last one repeats.

    A path ending in "*" matches every path that starts with the rest of it.
    """

    def __init__(self) -> None:
        self.url = ""
        self.seen: list[Seen] = []
        self.most_in_flight = 0  # the most requests being answered at one moment
        self._in_flight = 0
        self._generation = 0  # bumped by reset: a request left over from before is not counted
        self._routes: dict[str, deque[Reply]] = {}
        self._lock = threading.Lock()

    def reply(
        self,
        path: str,
        *,
        status: int = 200,
        json_body: Any = None,
        text: str | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        drip_head: float = 0.0,
        drip: float = 0.0,
        content_length: int | None = None,
        stall: float = 0.0,
    ) -> None:
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        else:
            body = (text or "").encode()
            headers = {"Content-Type": "text/plain", **(headers or {})}
        with self._lock:
            self._routes.setdefault(path, deque()).append(
                Reply(status, body, headers, delay, drip_head, drip, content_length, stall)
            )

    def to(self, path: str) -> list[Seen]:
        """The requests that reached a path (or a "prefix*"), in order."""
        if path.endswith("*"):
            return [s for s in self.seen if s.path.startswith(path[:-1])]
        return [s for s in self.seen if s.path == path]

    def reset_path(self, path: str) -> None:
        """Forget the replies queued for one path."""
        with self._lock:
            self._routes.pop(path, None)

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self.seen.clear()
            self.most_in_flight = self._in_flight = 0
            self._generation += 1

    def _pause(self, generation: int, seconds: float) -> bool:
        """Wait, unless the server is reset meanwhile (then False: stop sending)."""
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            if generation != self._generation:
                return False
            threading.Event().wait(min(left, 0.05))
        return generation == self._generation

    def _arrived(self) -> int:
        with self._lock:
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
            return self._generation

    def _answered(self, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._in_flight -= 1

    def _take(self, seen: Seen) -> Reply:
        with self._lock:
            self.seen.append(seen)
            queue = self._routes.get(seen.path) or next(
                (
                    q
                    for p, q in self._routes.items()
                    if p.endswith("*") and seen.path.startswith(p[:-1])
                ),
                None,
            )
            if not queue:
                return Reply(418, f"no reply queued for {seen.path}".encode())
            return queue.popleft() if len(queue) > 1 else queue[0]


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackServer

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def _answer(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k: v for k, v in self.headers.items()},
            body=self.rfile.read(length).decode() if length else "",
        )
        generation = self.server.fake._arrived()
        try:
            reply = self.server.fake._take(seen)
            if reply.delay:
                threading.Event().wait(reply.delay)
            if reply.drip_head or reply.drip or reply.content_length is not None or reply.stall:
                self._send_faulty(reply, generation)
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left, as the timeout tests intend
        finally:
            self.server.fake._answered(generation)

    def _send_faulty(self, reply: Reply, generation: int) -> None:
        """Send the reply as written, slowly or short, as a hostile server would."""
        fake = self.server.fake
        length = len(reply.body) if reply.content_length is None else reply.content_length
        lines = [f"HTTP/1.0 {reply.status} Whatever"]
        lines += [f"{name}: {value}" for name, value in reply.headers.items()]
        lines += [f"Content-Length: {length}", "", ""]
        for part, interval in (
            ("\r\n".join(lines).encode(), reply.drip_head),
            (reply.body, reply.drip),
        ):
            if not interval:
                self.wfile.write(part)
                self.wfile.flush()
                continue
            for index in range(len(part)):
                self.wfile.write(part[index : index + 1])
                self.wfile.flush()
                if not fake._pause(generation, interval):
                    return
        if reply.stall:
            fake._pause(generation, reply.stall)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving() -> Iterator[FakeServer]:
    """Run a FakeServer on a free loopback port until the block ends."""
    with serving_on_loopback(FakeServer(), _Handler) as fake:
        yield fake
