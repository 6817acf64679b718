"""Typed Atlas failures, built from Atlas's error body ``{error, errorCode, detail, reason}``.

Every class is a ``ports.IntegrationError``, so the job worker needs to know nothing about
Atlas: ``retryable`` and ``retry_after`` say what to do next. Messages never hold a secret:
they name the integration, the HTTP method and path, and what Atlas said.
"""

from __future__ import annotations

from typing import Any

import httpx

from core.domain.ports import IntegrationError


class AtlasError(IntegrationError):
    """Atlas answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        detail: str | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, retryable=retryable, retry_after=retry_after)
        self.status = status
        self.error_code = error_code
        self.detail = detail


class AtlasAuthError(AtlasError):
    """The credentials were rejected (a second 401) or lack a permission (403)."""


class AtlasBadRequest(AtlasError):
    """Atlas refused the request's content (400): a rule of the API was broken."""


class AtlasNotFound(AtlasError):
    """404: the project, cluster, user ... does not exist (or the key cannot see it)."""


class AtlasConflict(AtlasError):
    """409: the thing being created already exists."""


class AtlasUnavailable(AtlasError):
    """Atlas could not be reached, timed out, or kept answering 429/5xx. Retry later."""


def error_body(response: httpx.Response) -> dict[str, Any]:
    """Atlas's JSON error body, or an empty mapping when the body is not JSON."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def describe(response: httpx.Response) -> tuple[str | None, str | None, str]:
    """``(errorCode, detail, "404 GROUP_NOT_FOUND: No group with ID ... exists.")``."""
    body = error_body(response)
    code = body.get("errorCode") or response.headers.get("X-Error-Code")
    detail = body.get("detail")
    text = f"{response.status_code} {code or response.reason_phrase}"
    if detail:
        text += f": {detail}"
    return code, detail, text


def error_for(
    response: httpx.Response,
    *,
    integration: str,
    method: str,
    path: str,
    credential: str = "API key",
) -> AtlasError:
    """The typed error for a non-success response that is not retried inline.

    ``credential`` names what authenticated the call (``API key`` / ``service account``).
    """
    code, detail, text = describe(response)
    status = response.status_code
    facts: dict[str, Any] = {"status": status, "error_code": code, "detail": detail}
    where = f"Atlas {method} {path} for integration {integration}"
    if status == 401:
        return AtlasAuthError(
            f"Atlas rejected the {credential} for integration {integration} ({text})", **facts
        )
    if status == 403:
        return AtlasAuthError(
            f"Atlas denied {method} {path} for integration {integration}: the key lacks a "
            f"role or this address is not on its access list ({text})",
            **facts,
        )
    if status == 400:
        return AtlasBadRequest(f"{where} was refused ({text})", **facts)
    if status == 404:
        return AtlasNotFound(f"{where}: not found ({text})", **facts)
    if status == 409:
        return AtlasConflict(f"{where}: conflict ({text})", **facts)
    if status >= 500 or status == 429:
        return AtlasUnavailable(f"{where} failed ({text})", retryable=True, **facts)
    return AtlasError(f"{where} failed ({text})", **facts)
