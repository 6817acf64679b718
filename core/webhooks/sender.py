"""One HTTP attempt at a webhook delivery: signed, with a timeout, never following a redirect.

Any answer but a 2xx is a failure, and so is a redirect (3xx): it is never followed, and the
failure says whether it pointed at another host. The URL is checked again here, so a delivery
goes over https only (plain http only to a loopback address the config explicitly allows).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import httpx

from core.config.secrets import SecretValue
from core.config.webhooks import WebhookConfig, url_problem
from core.webhooks import signing

USER_AGENT = "Gatepass-Webhooks/1"
MAX_ERROR_BODY = 200


@dataclass(frozen=True)
class Outcome:
    """How an attempt went: ``error`` None means the receiver accepted it."""

    status_code: int | None
    error: str | None
    seconds: float
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        took = f"{self.seconds * 1000:.0f} ms"
        if self.error is None:
            return f"delivered (HTTP {self.status_code}, {took})"
        return f"failed: {self.error} ({took})"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _redirect_problem(url: str, response: httpx.Response) -> str:
    location = response.headers.get("location")
    if not location:
        return f"HTTP {response.status_code}: a redirect (never followed) without a Location"
    target = urlsplit(urljoin(url, location))
    if target.hostname != urlsplit(url).hostname:
        where = f"another host ({target.hostname or 'none'})"
    else:
        where = "the same host"
    return f"HTTP {response.status_code}: redirected to {where}; redirects are never followed"


def _answer_problem(url: str, response: httpx.Response) -> str | None:
    if 200 <= response.status_code < 300:
        return None
    if 300 <= response.status_code < 400:
        return _redirect_problem(url, response)
    text = " ".join(response.text.split())[:MAX_ERROR_BODY]
    return f"HTTP {response.status_code}" + (f": {text}" if text else "")


def headers_for(
    secret: SecretValue, *, delivery_id: str, event: str, body: bytes, timestamp: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.DELIVERY_HEADER: delivery_id,
        signing.EVENT_HEADER: event,
        signing.SIGNATURE_HEADER: signing.signature_header(secret.reveal(), timestamp, body),
    }


async def send(
    hook: WebhookConfig,
    secret: SecretValue,
    *,
    delivery_id: str,
    event: str,
    body: str,
    now: datetime,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Outcome:
    """POST ``body`` to the webhook once, signed at ``now``."""
    started = time.monotonic()
    problem = url_problem(hook.url, allow_insecure_loopback=hook.allow_insecure_loopback)
    if problem is not None:
        return Outcome(None, f"not sent: {problem}", 0.0)
    data = body.encode()
    headers = headers_for(
        secret, delivery_id=delivery_id, event=event, body=data, timestamp=int(now.timestamp())
    )
    timeout = hook.timeout.total_seconds()
    try:
        async with httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, transport=transport
        ) as client:
            response = await client.post(hook.url, content=data, headers=headers)
    except httpx.TimeoutException:
        return Outcome(None, f"no answer within {timeout:g}s", time.monotonic() - started)
    except httpx.HTTPError as error:
        detail = str(error) or type(error).__name__
        return Outcome(None, f"cannot connect: {detail}", time.monotonic() - started)
    problem = _answer_problem(hook.url, response)
    return Outcome(
        response.status_code,
        problem,
        time.monotonic() - started,
        retry_after=_retry_after(response),
    )


async def redirect_problem(hook: WebhookConfig) -> str | None:
    """``check-config --online``: ask the URL with an unsigned HEAD (no event, nothing for a
    receiver to act on) and say why it cannot take deliveries: unreachable, or a redirect,
    which a delivery never follows. Any other answer (405 included) is left to delivery."""
    timeout = hook.timeout.total_seconds()
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            response = await client.head(hook.url)
    except httpx.TimeoutException:
        return f"no answer within {timeout:g}s"
    except httpx.HTTPError as error:
        return f"cannot connect: {str(error) or type(error).__name__}"
    if 300 <= response.status_code < 400:
        return _redirect_problem(hook.url, response)
    return None
