"""A local HTTP server that answers webhook executions as Discord does, so no test posts.

`POST /api/webhooks/<id>/<token>` with a multipart body (`payload_json` and `files[n]`):
- an unknown webhook gets 404 `Unknown Webhook` (code 10015);
- a file larger than `max_file_bytes` gets 400 `Request entity too large` (code 40005),
  or the edge's 413 when `too_large_status` is 413;
- an embed over 6000 characters in all gets 400 code 50035 about its size;
- otherwise 200 with a message object (`?wait=true`) or 204 without `wait`.
Replies queued with `then(...)` come first (a 429, say). Every request is kept in
`received`, its multipart parts parsed.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.loopback import LoopbackServer, serving_on_loopback

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "discord"
WEBHOOK_ID = "1300000000000000001"
TOKEN = "wh-T0ken_that-must-never-show.8f3c2a9d"


def recorded(name: str) -> dict[str, Any]:
    """A recorded answer of tests/fixtures/discord: status, headers, body."""
    return json.loads((FIXTURES / name).read_text())


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass(frozen=True)
class Received:
    path: str
    query: dict[str, str]
    content_type: str
    parts: dict[str, Part]

    @property
    def payload(self) -> dict[str, Any]:
        return self.parts["payload_json"].json()


@dataclass
class FakeDiscord:
    url: str = ""  # the server's root; `webhook_url` is the URL a user would set
    received: list[Received] = field(default_factory=list)
    max_file_bytes: int = 10 * 1024 * 1024
    too_large_status: int = 400
    delay: float = 0.0  # before each answer: a slow Discord, for the concurrency tests
    _queued: deque[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1310000000000000000

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/api/webhooks/{WEBHOOK_ID}/{TOKEN}"

    def then(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        """Answer the next request with this, before judging any on its merits."""
        self._queued.append((status, body, headers or {}))

    def answer(self, request: Received) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        with self._lock:
            self.received.append(request)
            if self._queued:
                return self._queued.popleft()
            if request.path != f"/api/webhooks/{WEBHOOK_ID}/{TOKEN}":
                return 404, {"message": "Unknown Webhook", "code": 10015}, {}
            files = [p for name, p in request.parts.items() if name.startswith("files[")]
            if any(len(p.content) > self.max_file_bytes for p in files):
                if self.too_large_status == 413:
                    return 413, None, {}
                return 400, {"message": "Request entity too large", "code": 40005}, {}
            if sum(_embed_length(e) for e in request.payload.get("embeds", [])) > 6000:
                return 400, _too_long_embed(), {}
            if request.query.get("wait") != "true":
                return 204, None, {}
            self._next_id += 1
            message = {
                "id": str(self._next_id),
                "type": 0,
                "channel_id": "1200000000000000002",
                "webhook_id": WEBHOOK_ID,
                "content": request.payload.get("content", ""),
                "embeds": request.payload.get("embeds", []),
                "attachments": [
                    {"id": str(self._next_id + n), "filename": p.filename, "size": len(p.content)}
                    for n, p in enumerate(files)
                ],
            }
            return 200, message, {}


def _embed_length(embed: dict[str, Any]) -> int:
    parts = [embed.get("title", ""), embed.get("description", "")]
    parts += [p for f in embed.get("fields", []) for p in (f["name"], f["value"])]
    parts += [embed.get("footer", {}).get("text", "")]
    return sum(len(p.strip()) for p in parts)


def _too_long_embed() -> dict[str, Any]:
    return {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {
            "embeds": {
                "_errors": [
                    {"code": "BASE_TYPE_MAX_LENGTH", "message": "Embed size exceeds maximum size"}
                ]
            }
        },
    }


def parse_multipart(content_type: str, body: bytes) -> dict[str, Part]:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        parts[name] = Part(
            name=name,
            filename=part.get_filename(),
            content_type=part.get_content_type() if part.get("Content-Type") else "",
            content=part.get_payload(decode=True) or b"",
        )
    return parts


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackServer

    def do_POST(self) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        content_type = self.headers.get("Content-Type", "")
        parts = parse_multipart(content_type, body) if "multipart" in content_type else {}
        request = Received(url.path, dict(parse_qsl(url.query)), content_type, parts)
        if fake.delay:
            threading.Event().wait(fake.delay)
        status, answer, headers = fake.answer(request)
        data = json.dumps(answer).encode() if answer is not None else b""
        if status == 413:
            data = b"<html><center><h1>413 Request Entity Too Large</h1></center></html>"
        try:
            self.send_response(status)
            content = "application/json" if answer is not None else "text/html"
            for name, value in {"Content-Type": content, **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving() -> Iterator[FakeDiscord]:
    """A FakeDiscord on a free loopback port until the block ends."""
    with serving_on_loopback(FakeDiscord(), _Handler) as fake:
        yield fake
