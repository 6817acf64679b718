"""Signing a delivery: HMAC-SHA256 over ``<timestamp>.<raw body>`` with the webhook's secret,
sent as ``Gatepass-Signature: t=<unix seconds>,v1=<hex digest>`` (the shape Stripe uses).

``verify`` is what a receiver does (the README shows the same in a few lines): recompute the
digest over the raw body, compare in constant time, and refuse an old timestamp (a replay).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Gatepass-Signature"
DELIVERY_HEADER = "Gatepass-Delivery"
EVENT_HEADER = "Gatepass-Event"
DEFAULT_TOLERANCE = 300  # seconds a receiver accepts a signature for


def digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={digest(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, *, now: float, tolerance: int = DEFAULT_TOLERANCE
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and is at most ``tolerance`` old."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(digest(secret, timestamp, body), parts.get("v1", ""))
