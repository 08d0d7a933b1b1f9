"""Executing a Discord webhook with plain requests: one multipart message, `?wait=true`.

Thin on purpose: it sends what it is given and says how Discord answered. A 429 waits the
`retry_after` Discord asks for (capped, a bounded number of times) and tries again; every
other answer is returned to the caller as the message id or as one of the project's errors.
A timeout or a dropped connection is not retried here: Discord may have posted the message
already, and the caller's record of the post decides what the next run does.

The webhook URL carries the webhook's token, so no error raised here quotes the URL, the
request or the exception of requests (whose text names the URL): each is said in words.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import urllib3

from edgeledger.errors import ReportPostFailed, ReportTooLarge, WebhookGone

log = logging.getLogger(__name__)

TIMEOUT = (5.0, 30.0)  # seconds to connect, and to wait for each read of the answer
MAX_ATTEMPTS = 4  # requests for one message, 429s included
MAX_WAIT = 30.0  # the longest retry_after waited for; a longer one fails the run
DEFAULT_WAIT = 1.0  # a 429 that says nothing about how long
UNKNOWN_WEBHOOK = 10015
REQUEST_TOO_LARGE = 40005
INVALID_FORM_BODY = 50035
_SIZE_WORDS = ("size", "length", "too large", "too long")  # "BASE_TYPE_MAX_LENGTH", ...


@dataclass(frozen=True)
class File:
    """One attached file, `files[n]` of the request in the order given."""

    filename: str
    content: bytes
    content_type: str


def execute(
    session: requests.Session,
    url: str,
    payload: dict[str, Any],
    files: Sequence[File] = (),
    *,
    timeout: tuple[float, float] = TIMEOUT,
    max_attempts: int = MAX_ATTEMPTS,
    max_wait: float = MAX_WAIT,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Post `payload` (as `payload_json`) with `files` to the webhook and return the new
    message's id. Raises ReportTooLarge for a message Discord refuses for its size,
    WebhookGone for a 404, ReportPostFailed for anything else."""
    target = _with_wait(url)
    for attempt in range(1, max_attempts + 1):
        parts: dict[str, tuple[str | None, bytes | str, str]] = {
            "payload_json": (None, json.dumps(payload), "application/json"),
        }
        for n, f in enumerate(files):
            parts[f"files[{n}]"] = (f.filename, f.content, f.content_type)
        try:
            response = session.post(target, files=parts, timeout=timeout)
        except requests.ConnectTimeout:
            raise ReportPostFailed("could not connect to Discord (timed out)") from None
        except requests.ConnectionError as exc:
            if _not_connected(exc):
                raise ReportPostFailed("could not connect to Discord (connection refused or"
                                       " no route); nothing was posted") from None  # fmt: skip
            raise ReportPostFailed(
                f"the connection to Discord failed ({type(exc).__name__}); whether the message"
                " was posted is unknown"
            ) from None
        except requests.RequestException as exc:  # its text names the URL: not quoted
            raise ReportPostFailed(
                f"the request to Discord failed ({type(exc).__name__}); whether the message"
                " was posted is unknown"
            ) from None
        if response.status_code == 429:
            wait = _retry_after(response)
            if wait > max_wait:
                raise ReportPostFailed(
                    f"Discord is rate limiting the webhook for {wait:.0f} s (longer than the"
                    f" {max_wait:.0f} s a run waits); nothing was posted, the next run retries"
                )
            if attempt == max_attempts:
                break
            log.info("Discord rate limit: waiting %.2f s (attempt %d)", wait, attempt)
            sleep(wait)
            continue
        return _answer(response)
    raise ReportPostFailed(
        f"Discord rate limited the webhook {max_attempts} times in a row; nothing was posted,"
        " the next run retries"
    )


def _answer(response: requests.Response) -> str | None:
    status = response.status_code
    body = _json(response)
    if status in (200, 204):
        message_id = body.get("id") if isinstance(body, dict) else None
        return str(message_id) if message_id is not None else None
    code = body.get("code") if isinstance(body, dict) else None
    said = _said(body, response)
    if status == 404:
        raise WebhookGone(
            f"Discord says the webhook of DISCORD_REPORT_WEBHOOK_URL does not exist ({status}:"
            f" {said}): it was deleted or the URL is wrong; make a new webhook and update the"
            " setting"
        )
    if (
        status == 413
        or code == REQUEST_TOO_LARGE
        or (code == INVALID_FORM_BODY and _about_size(body))
    ):
        raise ReportTooLarge(f"Discord refused the message as too large ({status}: {said})")
    raise ReportPostFailed(f"Discord answered {status}: {said}")


def _not_connected(exc: requests.ConnectionError) -> bool:
    """Whether the connection was never made (so nothing was sent)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _with_wait(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "wait"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("wait", "true")])))


def _retry_after(response: requests.Response) -> float:
    """Seconds to wait: the body's `retry_after` (float seconds), else the Retry-After
    header, else a second."""
    body = _json(response)
    for value in (body.get("retry_after") if isinstance(body, dict) else None,
                  response.headers.get("Retry-After")):  # fmt: skip
        try:
            seconds = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if seconds == seconds and seconds >= 0:  # not NaN
            return seconds
    return DEFAULT_WAIT


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _said(body: Any, response: requests.Response) -> str:
    """Discord's own words, short and on one line (a 413 from the edge is plain HTML)."""
    if isinstance(body, dict) and body.get("message"):
        text = str(body["message"])
        if body.get("code"):
            text += f", code {body['code']}"
    else:
        text = response.reason or "no message"
    return " ".join(text.split())[:200]


def _about_size(body: Any) -> bool:
    """Whether a 50035 (invalid form body) names a size or length among its errors."""
    errors = json.dumps(body.get("errors", {})).lower() if isinstance(body, dict) else ""
    return any(word in errors for word in _SIZE_WORDS)
