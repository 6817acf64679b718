"""A fake MongoDB Atlas Administration API v2 on loopback that speaks the real wire protocol.

It checks HTTP Digest for real (realm "MMS Public API", MD5, qop=auth; a wrong key gets a
second 401) and service-account bearer tokens from its ``/api/oauth/token``; it answers 406 to a
missing or unknown ``Accept`` version, validates request bodies against the official spec's
schemas, enforces Atlas's rules (role databases, one-week ``deleteAfterDate``, scopes naming a
real cluster, 100 users per project, the last organization owner), answers in the recorded
shapes with Atlas's error bodies, reports a change ``PENDING`` for the next few status polls,
and deletes users whose ``deleteAfterDate`` passed on its (injectable) clock.

Reuse it from any suite::

    async with FakeAtlas(clock=clock) as fake:   # seeded: ORG_ID, PROJECT_ID, "Cluster0"
        config = AtlasDatabaseIntegration(..., atlas_url=fake.url)
        integration = build_integration(config, fake.api_key(), clock=clock)

(``start()`` / ``stop()`` do the same; ``fake.url`` is ``http://127.0.0.1:<port>``.)

State for assertions: ``users`` (project -> username -> user), ``passwords``, ``org_users``,
``invitations``, ``requests`` (method, path, headers, query, body, status of every call; see
``calls()``; a call still being answered has status 0). Controls: ``fail_next(n, status=429|500|503,
retry_after=s)``, ``slow_down(seconds, method=, contains=, count=)``, ``pending_polls``,
``max_users_per_project``, ``rate_limit=RateLimit(burst, per_minute)`` (Atlas's token bucket
on the database-user endpoints, per project, with its headers and 429 body; off by default),
``add_cluster`` / ``add_database`` / ``add_db_user`` /
``add_org_user`` / ``add_project``. Every accepted version is answered in the newest recorded
shape (clusters: 2024-08-05).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from aiohttp import web

from core.config.secrets import SecretValue
from core.domain.ports import Clock, SystemClock
from tests.fakes.atlas_spec import contract
from tests.fakes.atlas_spec.database_users import DatabaseUserRules
from tests.fakes.atlas_spec.people import PeopleRules
from tests.fakes.atlas_spec.projects import ProjectRules
from tests.fakes.atlas_spec.rate_limit import RateLimit
from tests.fakes.atlas_spec.state import absolute
from tests.fakes.atlas_spec.traffic import RecordedRequest, Slowdown, Storm
from tests.fakes.atlas_spec.wire import (
    ApiError,
    basic_credentials,
    challenge,
    digest_fields,
    digest_valid,
)

ORG_ID: Final = "5f00c0ffee0123456789abcd"
PROJECT_ID: Final = "64b0c0ffee0123456789abcd"
OTHER_PROJECT_ID: Final = "64b0c0ffee0123456789abce"
CLUSTER_NAME: Final = "Cluster0"
OWNER_EMAIL: Final = "owner@example.com"
PUBLIC_KEY: Final = "gpfakepublickey"
PRIVATE_KEY: Final = "fake-private-7c1e9d2a-4b4b-4f0e-9a51-0d6c2f1e8b3a"
CLIENT_ID: Final = "mdb_sa_id_fake0000000001"
CLIENT_SECRET: Final = "mdb_sa_sk_fake-secret-9f8e7d6c5b4a3f2e1d0c"
TOKEN_PATH: Final = "/api/oauth/token"


class _Unauthorized(Exception):
    pass


class FakeAtlas(ProjectRules, DatabaseUserRules, PeopleRules):
    """The fake Atlas. ``seed`` adds ORG_ID, PROJECT_ID (+ OTHER_PROJECT_ID), CLUSTER_NAME with
    databases ``analytics`` and ``sales``, and OWNER_EMAIL as the organization's owner."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: bool = True,
        max_users_per_project: int = 100,
        pending_polls: int = 1,
        token_lifetime: float = 3600.0,
        rate_limit: RateLimit | None = None,
    ) -> None:
        super().__init__(
            clock=clock or SystemClock(),
            max_users_per_project=max_users_per_project,
            pending_polls=pending_polls,
        )
        self.token_lifetime = token_lifetime
        self.rate_limit = rate_limit  # None: no token bucket (ordinary tests)
        self.in_flight = 0  # calls being answered now, and the most there were at once
        self.most_in_flight = 0
        self.api_keys: dict[str, str] = {PUBLIC_KEY: PRIVATE_KEY}
        self.service_accounts: dict[str, str] = {CLIENT_ID: CLIENT_SECRET}
        self.requests: list[RecordedRequest] = []
        self.tokens: dict[str, datetime] = {}
        self.tokens_issued = 0
        self.storms: list[Storm] = []
        self.slowdowns: list[Slowdown] = []
        self._nonces: set[str] = set()
        self._runner: web.AppRunner | None = None
        if seed:
            self.seed_defaults()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeAtlas:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ test controls

    def api_key(self) -> dict[str, SecretValue]:
        return {"public_key": SecretValue(PUBLIC_KEY), "private_key": SecretValue(PRIVATE_KEY)}

    def service_account(self) -> dict[str, SecretValue]:
        return {"client_id": SecretValue(CLIENT_ID), "client_secret": SecretValue(CLIENT_SECRET)}

    def fail_next(self, count: int, *, status: int = 429, retry_after: float | None = 1.0) -> None:
        """A storm: the next ``count`` authenticated API calls answer ``status``."""
        self.storms.append(Storm(count, status, retry_after))

    def slow_down(
        self,
        seconds: float,
        *,
        method: str | None = None,
        contains: str = "",
        count: int | None = None,
    ) -> None:
        """Answer matching API calls ``seconds`` late, as a busy Atlas does (the change is
        made after the wait, even when the caller gave up meanwhile)."""
        self.slowdowns.append(Slowdown(seconds, method, contains, count))

    def calls(
        self, method: str | None = None, contains: str = "", *, challenges: bool = False
    ) -> list[RecordedRequest]:
        """Recorded requests, without the unauthenticated Digest challenges unless asked."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method)
            and contains in r.path
            and (challenges or r.status != 401)
        ]

    def seed_defaults(self) -> None:
        self.add_org(ORG_ID, "Gatepass-Test-Org")
        self.add_project(PROJECT_ID, "Sales", tags={"owner": "dba", "env": "prod"})
        self.add_project(OTHER_PROJECT_ID, "Analytics", tags={"owner": "data-eng"})
        self.add_cluster(
            CLUSTER_NAME, tags={"owner": "dba-oncall"}, databases=("analytics", "sales")
        )
        self.add_org_user(
            OWNER_EMAIL, org_roles=("ORG_OWNER",), project_roles={PROJECT_ID: ("GROUP_OWNER",)}
        )

    # ------------------------------------------------------------------ the HTTP edge

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        path = request.raw_path.split("?", 1)[0]
        record = RecordedRequest(
            request.method, path, dict(request.query), dict(request.headers), _json_or_text(raw)
        )
        self.requests.append(record)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self._wait_if_slowed(request, path)
            response = self._answer(request, path, raw, record)
        finally:
            self.in_flight -= 1
        record.status = response.status
        return response

    async def _wait_if_slowed(self, request: web.Request, path: str) -> None:
        authenticated = request.headers.get("Authorization", "").startswith(("Digest ", "Bearer "))
        for slowdown in self.slowdowns:
            if authenticated and slowdown.applies(request.method, path):
                if slowdown.count is not None:
                    slowdown.count -= 1
                await asyncio.sleep(slowdown.seconds)
                return

    def _answer(
        self, request: web.Request, path: str, raw: bytes, record: RecordedRequest
    ) -> web.Response:
        try:
            if path == TOKEN_PATH:
                return self._issue_token(request, raw)
            return self._api(request, path, record)
        except _Unauthorized:
            nonce = secrets.token_hex(16)
            self._nonces.add(nonce)
            return challenge(nonce)
        except ApiError as error:
            return error.response()

    def _api(self, request: web.Request, path: str, record: RecordedRequest) -> web.Response:
        if not path.startswith(contract.API_PREFIX):
            raise ApiError(404, "RESOURCE_NOT_FOUND", f"Cannot find resource {path}.")
        self._authenticate(request)
        self.expire_users()
        self._blow_storm(path)
        limits = self.rate_limit.check(path) if self.rate_limit is not None else {}
        operation, params, known = contract.find(request.method, path)
        if operation is None:
            status = 405 if known else 404
            raise ApiError(status, "RESOURCE_NOT_FOUND", f"Cannot find resource {path}.")
        version = self._negotiate(request, operation)
        body = self._body(request, operation, record.body)
        handler: Callable[..., tuple[int, Any]] | None = getattr(
            self, f"op_{operation.operation_id}", None
        )
        if handler is None:
            raise ApiError(501, "NOT_IMPLEMENTED", f"The fake has no {operation.operation_id}.")
        status, payload = handler(params, dict(request.query), body)
        media = f"application/vnd.atlas.{version}+json"
        if payload is None:
            return web.Response(status=status, headers={"Content-Type": media, **limits})
        return web.Response(
            status=status,
            text=json.dumps(absolute(payload, self.url)),
            content_type=media,
            charset="utf-8",
            headers=limits,
        )

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            expires = self.tokens.get(header.removeprefix("Bearer "))
            if expires is None or expires <= self.clock.now():
                raise _Unauthorized
            return
        if header.startswith("Digest "):
            fields = digest_fields(header.removeprefix("Digest "))
            uri = request.raw_path
            if digest_valid(
                fields, method=request.method, uri=uri, keys=self.api_keys, nonces=self._nonces
            ):
                return
        raise _Unauthorized

    def _issue_token(self, request: web.Request, raw: bytes) -> web.Response:
        credentials = basic_credentials(request.headers.get("Authorization", ""))
        form = dict(item.split("=", 1) for item in raw.decode().split("&") if "=" in item)
        if request.method != "POST" or form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if credentials is None or self.service_accounts.get(credentials[0]) != credentials[1]:
            return web.json_response({"error": "invalid_client"}, status=401)
        token = secrets.token_urlsafe(32)
        self.tokens[token] = self.clock.now() + timedelta(seconds=self.token_lifetime)
        self.tokens_issued += 1
        body = {
            "access_token": token,
            "expires_in": int(self.token_lifetime),
            "token_type": "Bearer",
        }
        return web.json_response(body)

    def _blow_storm(self, path: str) -> None:
        if not self.storms:
            return
        storm = self.storms[0]
        storm.count -= 1
        if storm.count <= 0:
            self.storms.pop(0)
        headers = {}
        if storm.retry_after is not None:
            value = storm.retry_after
            headers["Retry-After"] = str(int(value)) if value == int(value) else str(value)
        if storm.status == 429:
            raise ApiError(
                429,
                "RATE_LIMITED_TOKEN_BUCKET",
                f"Resource {path} is limited to 100 requests every 1 minutes.",
                headers=headers,
            )
        raise ApiError(storm.status, "UNEXPECTED_ERROR", "Unexpected error.", headers=headers)

    def _negotiate(self, request: web.Request, operation: contract.Operation) -> str:
        accept = request.headers.get("Accept", "")
        for media in (part.split(";", 1)[0].strip() for part in accept.split(",")):
            version = media.removeprefix("application/vnd.atlas.").removesuffix("+json")
            if media.startswith("application/vnd.atlas.") and version in operation.versions:
                return version
        raise ApiError(
            406,
            "INVALID_ACCEPT_HEADER",
            f"Accept {accept or '(missing)'} names no version of {operation.operation_id}; "
            f"use one of {sorted(operation.versions)}.",
        )

    def _body(self, request: web.Request, operation: contract.Operation, body: Any) -> Any:
        if operation.body_schema is None:
            return None
        media = request.headers.get("Content-Type", "").split(";", 1)[0].strip()
        if media not in operation.body_types and media != "application/json":
            raise ApiError(
                415, "UNSUPPORTED_MEDIA_TYPE", f"Content-Type {media!r} is not accepted."
            )
        if isinstance(body, str) or body is None:
            raise ApiError(400, "MALFORMED_JSON", "Received JSON is malformed.")
        for error in contract.body_errors(operation.body_schema, body):
            where = ".".join(str(part) for part in error.absolute_path) or "body"
            if error.validator == "required":
                name = error.message.split("'")[1]
                raise ApiError(
                    400,
                    "MISSING_ATTRIBUTE",
                    f"The required attribute {name} was not specified.",
                    parameters=[name],
                )
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"The request content produced the validation error: {where}: {error.message}.",
                parameters=[where],
            )
        return body


def _json_or_text(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "CLUSTER_NAME",
    "ORG_ID",
    "OTHER_PROJECT_ID",
    "OWNER_EMAIL",
    "PRIVATE_KEY",
    "PROJECT_ID",
    "PUBLIC_KEY",
    "ApiError",
    "FakeAtlas",
    "RateLimit",
    "RecordedRequest",
    "Slowdown",
    "Storm",
]
