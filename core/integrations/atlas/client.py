"""The Atlas Administration API v2 client: auth, pinned versions, retries, pagination.

Every request names its resource version (``Accept: application/vnd.atlas.<v>+json``). Calls
to a project's database users stay within Atlas's token bucket for them, with as many in
flight as its latency calls for (``core.integrations.atlas.limits``). 429 and 5xx answers are
retried with ``Retry-After`` respected plus exponential backoff with jitter,
and a long wait is handed to the job worker as ``IntegrationError(retryable=True,
retry_after=...)`` instead of blocking. Logs carry the method, path and status only.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Final
from urllib.parse import quote, urlsplit

import httpx

from core import metrics
from core.config.secrets import SecretValue
from core.domain.ports import Clock
from core.integrations.atlas.auth import (
    ApiKey,
    Credentials,
    ServiceAccount,
    ServiceAccountTokens,
    credentials_from_secret,
)
from core.integrations.atlas.errors import AtlasError, AtlasUnavailable, error_for
from core.integrations.atlas.limits import ProjectLimits

log = logging.getLogger("gatepass.atlas")

API_PREFIX: Final = "/api/atlas/v2"
RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
LIMITED: Final = re.compile(r"^/groups/(?P<project>[^/?]+)/databaseUsers(?:[/?]|$)")
MAX_PAGES: Final = 1000


class Version:
    """Resource versions, pinned per endpoint (see the Atlas README in the design notes)."""

    DATABASE_USERS: Final = "2023-01-01"
    ORGS: Final = "2023-01-01"
    GROUPS: Final = "2023-01-01"
    PROCESSES: Final = "2023-01-01"
    CLUSTER_STATUS: Final = "2023-01-01"
    SYSTEM: Final = "2023-01-01"
    CLUSTERS: Final = "2024-08-05"
    USERS: Final = "2025-02-19"  # organization and project users


def media_type(version: str) -> str:
    return f"application/vnd.atlas.{version}+json"


def segment(value: str) -> str:
    """One percent-encoded path segment: ``a/b c`` -> ``a%2Fb%20c``."""
    return quote(value, safe="")


@dataclass(frozen=True)
class RetryPolicy:
    """How 429/5xx answers and unreachable moments are retried inline.

    A wait longer than ``max_inline_delay`` seconds is not slept: it becomes a retryable
    ``IntegrationError`` carrying ``retry_after`` so the job worker reschedules.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_inline_delay: float = 10.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """At least ``Retry-After``, plus exponential backoff with jitter."""
        backoff = self.base_delay * 2 ** (attempt - 1)
        return (retry_after or 0.0) + random.uniform(backoff / 2, backoff)


@dataclass(frozen=True)
class LastCall:
    """How this client's last call to Atlas went (readiness reads it): ``ok`` unless Atlas was
    unreachable, refused the credentials (401/403), throttled (429) or failed (5xx)."""

    ok: bool
    endpoint: str
    status: str
    at: float = field(default_factory=time.time)

    def describe(self) -> str:
        outcome = "unreachable" if self.status == "unreachable" else f"HTTP {self.status}"
        return f"last call {self.endpoint}: {outcome}"


def _call_ok(status: int | str) -> bool:
    return isinstance(status, int) and status < 500 and status not in (401, 403, 429)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds (it may be a number or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    date = response.headers.get("Date")
    now = parsedate_to_datetime(date) if date else None
    if now is None:
        return None
    return max(0.0, (when - now).total_seconds())


class AtlasClient:
    """One integration's connection to Atlas. Create with ``AtlasClient.from_secret``."""

    def __init__(
        self,
        *,
        atlas_url: str,
        credentials: Credentials,
        integration: str,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        page_size: int = 500,
        rate_limit: tuple[int, float] | None = (10_000, 5_000.0),
    ) -> None:
        self.atlas_url = atlas_url.rstrip("/")
        self.integration = integration
        self._credentials = credentials
        self._transport = transport
        self._retry = retry or RetryPolicy()
        self._timeout = timeout or httpx.Timeout(30.0, connect=10.0)
        self._page_size = page_size
        self._http: httpx.AsyncClient | None = None
        self.last_call: LastCall | None = None
        self._rate_limit = rate_limit  # (burst, per minute) of a project's database users
        self._limits: dict[str, ProjectLimits] = {}
        self._auth = credentials.digest() if isinstance(credentials, ApiKey) else None
        self._tokens = (
            ServiceAccountTokens(
                credentials, atlas_url=atlas_url, integration=integration, clock=clock
            )
            if isinstance(credentials, ServiceAccount)
            else None
        )

    @classmethod
    def from_secret(
        cls, *, atlas_url: str, secret: dict[str, SecretValue], integration: str, **options: Any
    ) -> AtlasClient:
        credentials = credentials_from_secret(secret, integration=integration)
        return cls(atlas_url=atlas_url, credentials=credentials, integration=integration, **options)

    @property
    def base_url(self) -> str:
        return self.atlas_url + API_PREFIX

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                transport=self._transport, timeout=self._timeout, follow_redirects=False
            )
        return self._http

    # ------------------------------------------------------------------ verbs

    async def get(
        self, path: str, *, version: str, params: Mapping[str, str | int] | None = None
    ) -> Any:
        return await self.request("GET", path, version=version, params=params)

    async def post(self, path: str, *, version: str, body: Any) -> Any:
        return await self.request("POST", path, version=version, body=body)

    async def patch(self, path: str, *, version: str, body: Any) -> Any:
        return await self.request("PATCH", path, version=version, body=body)

    async def delete(self, path: str, *, version: str) -> None:
        await self.request("DELETE", path, version=version)

    async def paginate(
        self, path: str, *, version: str, params: Mapping[str, str | int] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a list endpoint, following ``links[rel=next]``."""
        query: Mapping[str, str | int] | None = {
            "itemsPerPage": self._page_size,
            "pageNum": 1,
            **(params or {}),
        }
        url = path
        for _page in range(MAX_PAGES):
            page = await self.request("GET", url, version=version, params=query)
            for item in page.get("results") or []:
                yield item
            following = self._next_link(page)
            if following is None or not page.get("results"):
                return
            url = following
            query = None  # the next link carries its own query
        log.warning("atlas %s: stopped after %d pages", path, MAX_PAGES)

    def _next_link(self, page: Mapping[str, Any]) -> str | None:
        """The ``next`` link, rebased on our own origin (credentials never go elsewhere)."""
        for link in page.get("links") or []:
            if link.get("rel") == "next" and link.get("href"):
                parts = urlsplit(str(link["href"]))
                if not parts.path.startswith(API_PREFIX):
                    return None
                tail = parts.path.removeprefix(API_PREFIX)
                return tail + (f"?{parts.query}" if parts.query else "")
        return None

    # ------------------------------------------------------------------ the core loop

    async def request(
        self,
        method: str,
        path: str,
        *,
        version: str,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
    ) -> Any:
        """Send, retrying 429/5xx and network failures; the decoded JSON (None for 204)."""
        url = self.base_url + path
        headers = {"Accept": media_type(version)}
        if body is not None:
            headers["Content-Type"] = media_type(version)
        token_refreshed = False
        attempt = 0
        limits = self._limits_for(path)
        while True:
            attempt += 1
            try:
                response = await self._limited_send(
                    limits, method, url, headers=headers, params=params, body=body
                )
            except httpx.TransportError as error:
                self._count(method, path, "unreachable")
                await self._wait_or_raise(attempt, None, self._unreachable(method, path, error))
                continue
            log.debug("atlas %s %s -> %s", method, _path_only(path), response.status_code)
            self._count(method, path, response.status_code)
            if response.status_code == 401 and self._tokens is not None and not token_refreshed:
                self._tokens.invalidate()
                token_refreshed = True
                attempt -= 1
                continue
            if response.status_code in RETRY_STATUSES:
                failure = error_for(response, **self._where(method, path))
                await self._wait_or_raise(attempt, retry_after_seconds(response), failure)
                continue
            if response.is_success:
                return response.json() if response.content else None
            raise error_for(response, **self._where(method, path))

    def _limits_for(self, path: str) -> ProjectLimits | None:
        """The budget a call spends: its project's database-user bucket (None: unlimited)."""
        match = LIMITED.match(path)
        if match is None or self._rate_limit is None:
            return None
        project = match["project"]
        if project not in self._limits:
            burst, per_minute = self._rate_limit
            self._limits[project] = ProjectLimits.of(burst=burst, per_minute=per_minute)
        return self._limits[project]

    async def _limited_send(
        self, limits: ProjectLimits | None, method: str, url: str, **options: Any
    ) -> httpx.Response:
        """Send within the project's budget: a slot among the calls in flight and a token;
        what Atlas answers about the budget corrects ours."""
        if limits is None:
            return await self._send(method, url, **options)
        async with limits.call():
            response = await self._send(method, url, **options)
        remaining = response.headers.get("Ratelimit-Remaining")
        limits.bucket.observe(
            int(remaining) if remaining and remaining.isdigit() else None,
            retry_after_seconds(response) if response.status_code == 429 else None,
        )
        return response

    async def _send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        params: Mapping[str, str | int] | None,
        body: Any,
    ) -> httpx.Response:
        http = self._client()
        if self._tokens is not None:
            token = await self._tokens.bearer(http)
            headers = {**headers, "Authorization": f"Bearer {token}"}
        return await http.request(
            method,
            url,
            headers=headers,
            params=dict(params) if params else None,
            json=body,
            auth=self._auth if self._auth is not None else httpx.USE_CLIENT_DEFAULT,
        )

    async def _wait_or_raise(
        self, attempt: int, retry_after: float | None, error: AtlasError
    ) -> None:
        """Sleep before the next attempt, or raise a retryable error for the job worker."""
        delay = self._retry.delay(attempt, retry_after)
        if attempt >= self._retry.attempts or delay > self._retry.max_inline_delay:
            metrics.atlas_retry_wait(self.integration, delay, inline=False)
            raise AtlasUnavailable(
                f"{error} - giving up for now; retry in {delay:.0f}s",
                status=error.status,
                error_code=error.error_code,
                retryable=True,
                retry_after=delay,
            ) from None
        log.debug("atlas retry %d in %.2fs", attempt, delay)
        metrics.atlas_retry_wait(self.integration, delay, inline=True)
        await self._retry.sleep(delay)

    def _count(self, method: str, path: str, status: int | str) -> None:
        metrics.atlas_call(self.integration, method, path, status)
        endpoint = metrics.atlas_endpoint(method, path)
        self.last_call = LastCall(ok=_call_ok(status), endpoint=endpoint, status=str(status))

    def _where(self, method: str, path: str) -> dict[str, str]:
        return {
            "integration": self.integration,
            "method": method,
            "path": _path_only(path),
            "credential": self._credentials.label,
        }

    def _unreachable(self, method: str, path: str, error: httpx.TransportError) -> AtlasUnavailable:
        return AtlasUnavailable(
            f"cannot reach Atlas at {self.atlas_url} for integration {self.integration} "
            f"({method} {_path_only(path)}: {type(error).__name__})",
            retryable=True,
        )


def _path_only(path: str) -> str:
    return path.split("?", 1)[0]
