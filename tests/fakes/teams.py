"""Bot Framework at the wire, on loopback (127.0.0.1, random ports).

- FakeOpenIdServer (thread): OpenID metadata + key set at ``metadata_url``; ``mint()`` signs
  channel tokens and can break each property (audience, issuer, expired, signature, kid, nbf).
- FakeTokenEndpoint (thread): client-credentials grants at ``token_url(tenant)``.
- FakeBotConnector (aiohttp, on the test's loop): the ``serviceUrl``; checks bearer tokens,
  records sent/updated activities and created conversations, answers member lookups from its
  roster; ``await wait_for_activity(...)`` instead of sleeping.
- FakeMember: a Teams user (channel account + the connector's member record).

``tests.fakes.teams_channel.FakeTeamsChannel`` builds Teams activities and POSTs them to a bot.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CHANNEL_ISSUER = "https://api.botframework.com"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
TENANT_ID = "8f2b6c1e-0d4a-4c59-9a77-3b1f0e6d2c41"
APP_ID = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
APP_PASSWORD = "fake-app-password"


@functools.cache
def rsa_key(index: int = 0) -> rsa.RSAPrivateKey:
    """Test keys, generated once per process (index 0 signs, others rotate/forge)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class _ThreadedServer:
    """An ``http.server`` on 127.0.0.1:<random> in a daemon thread; JSON in, JSON out."""

    def __init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def respond(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        raise NotImplementedError

    def start(self) -> _ThreadedServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload = owner.respond(self.command, self.path, self.headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)
        threading.Thread(target=serve, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FakeOpenIdServer(_ThreadedServer):
    """Bot Framework OpenID metadata and key set; mints the channel's tokens."""

    METADATA_PATH = "/v1/.well-known/openidconfiguration"
    KEYS_PATH = "/v1/.well-known/keys"

    def __init__(self, *, endorsements: Iterable[str] = ("msteams", "webchat")) -> None:
        super().__init__()
        self.endorsements = list(endorsements)
        self._key_index = 0
        self.kid = "fake-key-0"
        self.metadata_requests = 0
        self.delay = 0.0  # seconds to stall each answer (to prove fetches are off the loop)
        self.failing = False  # answer 503, like a metadata host that is down

    @property
    def metadata_url(self) -> str:
        return self.url + self.METADATA_PATH

    def rotate(self) -> str:
        """Publish (only) a new key; tokens minted afterwards use it. Returns its kid."""
        self._key_index += 1
        self.kid = f"fake-key-{self._key_index}"
        return self.kid

    def respond(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        time.sleep(self.delay)
        if method == "GET" and path == self.METADATA_PATH:
            self.metadata_requests += 1
            if self.failing:
                return 503, {"error": "unavailable"}
            return 200, {"issuer": CHANNEL_ISSUER, "jwks_uri": self.url + self.KEYS_PATH}
        if method == "GET" and path == self.KEYS_PATH:
            jwk = json.loads(RSAAlgorithm.to_jwk(rsa_key(self._key_index).public_key()))
            jwk.update(kid=self.kid, use="sig", endorsements=self.endorsements)
            return 200, {"keys": [jwk]}
        return 404, {"error": "not found"}

    def mint(
        self,
        *,
        app_id: str = APP_ID,
        service_url: str,
        audience: str | None = None,
        issuer: str = CHANNEL_ISSUER,
        expired: bool = False,
        not_before: int | None = None,
        bad_signature: bool = False,
        kid: str | None = None,
        claims: dict[str, Any] | None = None,
    ) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": issuer,
            "aud": audience or app_id,
            "serviceurl": service_url,
            "nbf": now - 60 if not_before is None else not_before,
            "exp": now - 3600 if expired else now + 3600,
        }
        payload.update(claims or {})
        key = rsa_key(99) if bad_signature else rsa_key(self._key_index)
        return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid or self.kid})


@dataclass(frozen=True)
class TokenRequest:
    tenant: str
    client_id: str
    scope: str
    granted: bool


class FakeTokenEndpoint(_ThreadedServer):
    """``POST /{tenant}/oauth2/v2.0/token`` with grant_type=client_credentials."""

    def __init__(
        self, *, client_id: str = APP_ID, client_secret: str = APP_PASSWORD, expires_in: int = 3599
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.expires_in = expires_in
        self.requests: list[TokenRequest] = []
        self.issued: set[str] = set()
        self._lock = threading.Lock()

    def token_url(self, tenant: str = "botframework.com") -> str:
        return f"{self.url}/{tenant}/oauth2/v2.0/token"

    def is_valid(self, token: str) -> bool:
        with self._lock:
            return token in self.issued

    def respond(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        tenant, _, rest = path.lstrip("/").partition("/")
        if method != "POST" or rest != "oauth2/v2.0/token":
            return 404, {"error": "not_found"}
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        granted = (
            form.get("grant_type") == "client_credentials"
            and form.get("client_id") == self.client_id
            and form.get("client_secret") == self.client_secret
            and form.get("scope") == BOT_FRAMEWORK_SCOPE
        )
        with self._lock:
            self.requests.append(
                TokenRequest(tenant, form.get("client_id", ""), form.get("scope", ""), granted)
            )
            if not granted:
                return 401, {"error": "invalid_client", "error_description": "AADSTS7000215"}
            token = f"fake-access-{len(self.requests)}-{uuid.uuid4().hex}"
            self.issued.add(token)
        return 200, {"token_type": "Bearer", "expires_in": self.expires_in, "access_token": token}


@dataclass(frozen=True)
class FakeMember:
    """A Teams user as the connector describes them."""

    id: str
    name: str
    aad_object_id: str
    email: str
    user_principal_name: str | None = None
    tenant_id: str = TENANT_ID

    def account(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}

    def as_json(self) -> dict[str, Any]:
        upn, tenant = self.user_principal_name or self.email, self.tenant_id
        return {
            **self.account(),
            "email": self.email,
            "userPrincipalName": upn,
            "tenantId": tenant,
            "userRole": "user",
        }

    def matches(self, key: str) -> bool:
        upn = (self.user_principal_name or self.email).lower()
        return key in (self.id, self.aad_object_id) or key.lower() in (upn, self.email.lower())


@dataclass(frozen=True)
class RecordedActivity:
    conversation_id: str
    id: str
    activity: dict[str, Any]
    reply_to_id: str | None = None

    @property
    def text(self) -> str | None:
        return self.activity.get("text")

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return self.activity.get("attachments") or []


@dataclass(frozen=True)
class RecordedUpdate:
    conversation_id: str
    activity_id: str
    activity: dict[str, Any]


@dataclass(frozen=True)
class CreatedConversation:
    id: str
    parameters: dict[str, Any]


Match = Callable[[Any], bool]


def _any(_: object) -> bool:
    return True


@dataclass
class FakeBotConnector:
    """The Bot Connector REST API (v3) that replies, updates and proactive messages reach."""

    tokens: FakeTokenEndpoint | None = None  # None: accept unauthenticated calls (dev mode)
    activities: list[RecordedActivity] = field(default_factory=list)
    updates: list[RecordedUpdate] = field(default_factory=list)
    conversations: list[CreatedConversation] = field(default_factory=list)
    member_lookups: list[tuple[str, str]] = field(default_factory=list)
    rejected: int = 0
    url: str = ""
    _roster: dict[str | None, list[FakeMember]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition | None = None
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def add_member(self, member: FakeMember, *, conversation_id: str | None = None) -> None:
        """Known in ``conversation_id``, or in every conversation when None."""
        self._roster.setdefault(conversation_id, []).append(member)

    async def start(self) -> FakeBotConnector:
        app = web.Application(middlewares=[self._check_token])
        conversation = "/v3/conversations/{cid}"
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post(conversation + "/activities", self._send)
        app.router.add_post(conversation + "/activities/{aid}", self._send)
        app.router.add_put(conversation + "/activities/{aid}", self._update)
        app.router.add_get(conversation + "/members/{mid}", self._member)
        self._changed = asyncio.Condition()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotConnector:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_for_activity(
        self, match: Match = _any, *, timeout: float = 5
    ) -> RecordedActivity:
        return await self._wait(self.activities, match, timeout, "sent activity")

    async def wait_for_update(self, match: Match = _any, *, timeout: float = 5) -> RecordedUpdate:
        return await self._wait(self.updates, match, timeout, "updated activity")

    async def wait_for_conversation(
        self, match: Match = _any, *, timeout: float = 5
    ) -> CreatedConversation:
        return await self._wait(self.conversations, match, timeout, "created conversation")

    async def _wait(self, items: list[Any], predicate: Match, timeout: float, what: str) -> Any:
        assert self._changed is not None, "start() the connector first"
        changed = self._changed

        async def found() -> Any:
            async with changed:
                return await changed.wait_for(lambda: next(filter(predicate, items), None))

        try:
            return await asyncio.wait_for(found(), timeout)
        except TimeoutError:
            raise AssertionError(f"no {what} matched in {timeout}s; got {items!r}") from None

    async def _record(self, items: list[Any], item: Any) -> None:
        assert self._changed is not None
        async with self._changed:
            items.append(item)
            self._changed.notify_all()

    @web.middleware
    async def _check_token(self, request: web.Request, handler: Any) -> web.StreamResponse:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if self.tokens is not None and (scheme != "Bearer" or not self.tokens.is_valid(token)):
            self.rejected += 1
            error = {"code": "Unauthorized", "message": "Authorization has been denied"}
            return web.json_response({"error": error}, status=401)
        return await handler(request)

    async def _create(self, request: web.Request) -> web.Response:
        parameters = await request.json()
        members = parameters.get("members") or [{}]
        conversation_id = f"a:personal-{members[0].get('id', uuid.uuid4().hex)}"
        await self._record(self.conversations, CreatedConversation(conversation_id, parameters))
        answer: dict[str, Any] = {"id": conversation_id, "serviceUrl": self.url}
        if parameters.get("activity"):
            answer["activityId"] = await self._store(conversation_id, parameters["activity"], None)
        return web.json_response(answer, status=201)

    async def _store(self, cid: str, activity: dict[str, Any], reply_to: str | None) -> str:
        activity_id = f"1:{next(self._ids)}"
        recorded = RecordedActivity(cid, activity_id, activity, reply_to)
        await self._record(self.activities, recorded)
        return activity_id

    async def _send(self, request: web.Request) -> web.Response:
        activity = await request.json()
        cid, reply_to = request.match_info["cid"], request.match_info.get("aid")
        return web.json_response({"id": await self._store(cid, activity, reply_to)}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        cid, aid = request.match_info["cid"], request.match_info["aid"]
        await self._record(self.updates, RecordedUpdate(cid, aid, await request.json()))
        return web.json_response({"id": aid})

    async def _member(self, request: web.Request) -> web.Response:
        cid, key = request.match_info["cid"], request.match_info["mid"]
        self.member_lookups.append((cid, key))
        for member in [*self._roster.get(cid, []), *self._roster.get(None, [])]:
            if member.matches(key):
                return web.json_response(member.as_json())
        error = {"code": "MemberNotFoundInConversation", "message": "The member is not found"}
        return web.json_response({"error": error}, status=404)
