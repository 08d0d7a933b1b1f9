"""Signed values for the dashboard: session cookies, CSRF tokens and weekly report links.

Pure: the caller passes the key and the time. Every signature is an HMAC-SHA256 over a
purpose prefix and the signed fields, so a value signed for one purpose (a report link)
can never pass as another (a session). Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date, datetime

_DERIVATION = b"edgeledger-dashboard-key-v1"


def derive_key(token: str, secret: str | None = None) -> bytes:
    """The signing key: from EDGELEDGER_DASHBOARD_SECRET when set, else from the dashboard
    token (so changing the token voids every session and link)."""
    material = (secret if secret else token).encode()
    return hmac.new(material, _DERIVATION, hashlib.sha256).digest()


def sign(key: bytes, purpose: str, *fields: str) -> str:
    """The URL-safe signature of `fields` for `purpose`."""
    message = "\x1f".join((purpose, *fields)).encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signed_ok(key: bytes, signature: str, purpose: str, *fields: str) -> bool:
    return hmac.compare_digest(sign(key, purpose, *fields).encode(), signature.encode())


# --- the weekly report link --------------------------------------------------------------------


def report_link_query(key: bytes, week: date, expires: datetime) -> dict[str, str]:
    """`exp` and `sig` for the link that opens the report of `week` until `expires`."""
    exp = str(int(expires.timestamp()))
    return {"exp": exp, "sig": sign(key, "report", week.isoformat(), exp)}


def report_link_valid(key: bytes, week: date, exp: str, sig: str, *, now: datetime) -> bool:
    """Whether (exp, sig) open the report of `week` at `now`: signed for that week, not yet
    expired."""
    if not exp.isascii() or not exp.isdigit() or len(exp) > 12:
        return False
    if not signed_ok(key, sig, "report", week.isoformat(), exp):
        return False
    return now.timestamp() < int(exp)


# --- the session cookie ------------------------------------------------------------------------


def session_value(key: bytes, nonce: str, expires: datetime) -> str:
    """`v1.<expiry>.<nonce>.<signature>`: who holds it is logged in until the expiry."""
    exp = str(int(expires.timestamp()))
    return f"v1.{exp}.{nonce}.{sign(key, 'session', exp, nonce)}"


def session_nonce(key: bytes, value: str, *, now: datetime) -> str | None:
    """The nonce of a valid, unexpired session cookie; None for anything else."""
    parts = value.split(".")
    if len(parts) != 4 or parts[0] != "v1":
        return None
    _, exp, nonce, signature = parts
    if not exp.isascii() or not exp.isdigit() or not nonce:
        return None
    if not signed_ok(key, signature, "session", exp, nonce):
        return None
    return nonce if now.timestamp() < int(exp) else None


def csrf_token(key: bytes, nonce: str) -> str:
    """The CSRF token of the session (or pre-login cookie) with this nonce."""
    return sign(key, "csrf", nonce)


def csrf_ok(key: bytes, nonce: str, token: str) -> bool:
    return bool(token) and signed_ok(key, token, "csrf", nonce)
