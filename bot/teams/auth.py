"""Bot Framework authentication for the Teams edge, in both directions.

Inbound: a request to ``/api/messages`` carries a JWT issued by ``https://api.botframework.com``
for our app id, signed by a key listed in the OpenID metadata at ``openid_metadata_url``.
botbuilder 4.17.1 validates it, but fetches the metadata with a blocking ``requests.get`` on the
event loop and fails with ``IndexError``/``KeyError``/``AttributeError`` on an unknown key id, a
token without an issuer or a missing header. So :class:`SigningKeys` replaces the SDK's metadata
cache entry (``JwtTokenExtractor.metadataCache``) with one that fetches in a thread and raises
:class:`UnknownSigningKey`, and :func:`preflight_channel_token` rejects, with a
:class:`AuthenticationFailed`, every token the SDK would mishandle before the SDK sees it.

Outbound: replies and proactive messages carry a token from a client-credentials grant. The
stock msal credentials insist on https and Microsoft's login host;
:class:`TokenUrlCredentialsFactory` posts to the configured ``token_url`` instead (off the event
loop) and caches each token until shortly before it expires.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from botframework.connector.auth import (
    AppCredentials,
    JwtTokenExtractor,
    ServiceClientCredentialsFactory,
)
from jwt.algorithms import RSAAlgorithm

from core.config.network import is_loopback_host
from core.config.secrets import SecretValue

log = logging.getLogger(__name__)

CHANNEL_ISSUER = "https://api.botframework.com"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com"
DEFAULT_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
LOGIN_HOST = "https://login.microsoftonline.com"
DEFAULT_TENANT = "botframework.com"
SIGNING_ALGORITHM = "RS256"

Clock = Callable[[], float]


class TeamsAuthError(Exception):
    """Base of the errors this module raises."""


class AuthenticationFailed(TeamsAuthError, PermissionError):
    """An inbound request is not authenticated; the message says why (never the token)."""


class UnknownSigningKey(AuthenticationFailed):
    """The token names a key id the OpenID metadata does not list."""


class SigningKeysUnavailable(TeamsAuthError):
    """The OpenID metadata or its key set could not be loaded, and no earlier copy exists."""


class OutboundTokenError(TeamsAuthError):
    """The token endpoint did not give us a token for outbound calls."""


# Every error the SDK's inbound validation can raise once the preflight has passed.
INBOUND_AUTH_ERRORS: tuple[type[Exception], ...] = (PermissionError, jwt.PyJWTError)


def require_secure_url(url: str, *, what: str) -> str:
    """An https URL, or plain http on a loopback host (the test fakes, a local emulator)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return url
    raise ValueError(f"{what} must be an https URL (plain http only on loopback), got {url!r}")


def default_token_url(tenant_id: str | None = None) -> str:
    """Microsoft's token endpoint: the Bot Framework tenant, or the bot's own when single-tenant."""
    return f"{LOGIN_HOST}/{tenant_id or DEFAULT_TENANT}/oauth2/v2.0/token"


# --------------------------------------------------------------------------- inbound


@dataclass(frozen=True)
class SigningKey:
    """One key of the set; ``public_key`` and ``endorsements`` are what the SDK reads."""

    kid: str
    public_key: Any
    endorsements: tuple[str, ...]


class SigningKeys:
    """The signing keys behind ``metadata_url``, fetched in a worker thread and cached.

    Stands in for the SDK's ``_OpenIdMetadata`` (same ``async get(key_id)``). Keys are refetched
    when older than ``max_age`` (a failed attempt is retried after ``retry_after`` seconds, and
    the old keys serve meanwhile), and on an unknown key id at most once per
    ``unknown_kid_refresh_after`` seconds, so forged key ids cannot flood the metadata host.
    """

    def __init__(
        self,
        *,
        metadata_url: str,
        max_age: float = 24 * 3600,
        unknown_kid_refresh_after: float = 300.0,
        retry_after: float = 10.0,
        timeout: float = 10.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.metadata_url = require_secure_url(metadata_url, what="teams.openid_metadata_url")
        self._max_age = max_age
        self._unknown_kid_refresh_after = unknown_kid_refresh_after
        self._retry_after = retry_after
        self._timeout = timeout
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = threading.Lock()

    def install(self) -> None:
        """Make the SDK's JWT validation use these keys for ``metadata_url``."""
        JwtTokenExtractor.metadataCache[self.metadata_url] = self

    @property
    def loaded(self) -> bool:
        return bool(self._keys)

    async def refresh(self, *, min_interval: float = 0.0) -> None:
        await asyncio.to_thread(self._refresh_blocking, min_interval)

    async def get(self, key_id: str | None) -> SigningKey:
        if self._fetched_at is None or self._clock() - self._fetched_at > self._max_age:
            await self._refresh_tolerantly(min_interval=self._retry_after)
        if not self._keys:
            raise SigningKeysUnavailable(f"no signing keys loaded from {self.metadata_url} yet")
        key = self._keys.get(key_id or "")
        if key is None:
            await self._refresh_tolerantly(min_interval=self._unknown_kid_refresh_after)
            key = self._keys.get(key_id or "")
        if key is None:
            raise UnknownSigningKey(f"the token's key id {key_id!r} is not a known signing key")
        return key

    async def _refresh_tolerantly(self, *, min_interval: float) -> None:
        try:
            await self.refresh(min_interval=min_interval)
        except SigningKeysUnavailable as error:
            if not self._keys:
                raise
            log.warning("keeping the previous Bot Framework signing keys: %s", error)

    def _refresh_blocking(self, min_interval: float) -> None:
        with self._lock:
            now = self._clock()
            if self._attempted_at is not None and now - self._attempted_at < min_interval:
                return
            self._attempted_at = now
            keys = _load_keys(self.metadata_url, timeout=self._timeout)
            self._keys = keys
            self._fetched_at = self._clock()
        log.info("loaded %d Bot Framework signing keys from %s", len(keys), self.metadata_url)


def _fetch_json(client: httpx.Client, url: str) -> dict[str, Any]:
    try:
        response = client.get(url)
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise SigningKeysUnavailable(f"cannot load {url}: {error}") from error
    if not isinstance(data, dict):
        raise SigningKeysUnavailable(f"{url} did not return a JSON object")
    return data


def _load_keys(metadata_url: str, *, timeout: float) -> dict[str, SigningKey]:
    with httpx.Client(timeout=timeout) as client:
        metadata = _fetch_json(client, metadata_url)
        jwks_uri = metadata.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise SigningKeysUnavailable(f"{metadata_url} names no jwks_uri")
        try:
            require_secure_url(jwks_uri, what="jwks_uri")
        except ValueError as error:
            raise SigningKeysUnavailable(str(error)) from None
        document = _fetch_json(client, jwks_uri)
    keys: dict[str, SigningKey] = {}
    for entry in document.get("keys") or ():
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str):
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(entry)
        except jwt.InvalidKeyError:
            log.warning("ignoring the malformed signing key %r from %s", kid, jwks_uri)
            continue
        endorsements = tuple(str(e) for e in entry.get("endorsements") or ())
        keys[kid] = SigningKey(kid=kid, public_key=public_key, endorsements=endorsements)
    if not keys:
        raise SigningKeysUnavailable(f"{jwks_uri} lists no RSA signing keys")
    return keys


async def preflight_channel_token(
    auth_header: str | None, *, channel_id: str | None, keys: SigningKeys
) -> None:
    """Reject what botbuilder would turn into a 500 instead of a 401, before it runs.

    Only Bot Framework channel tokens are accepted: the SDK's emulator and skill paths (other
    issuers) are never reached. Signature, expiry, audience and the serviceurl claim are then
    checked by the SDK, with these same keys.
    """
    scheme, _, token = (auth_header or "").strip().partition(" ")
    if not scheme:
        raise AuthenticationFailed("no Authorization header")
    if scheme != "Bearer" or not token or " " in token.strip():
        raise AuthenticationFailed("the Authorization header is not 'Bearer <token>'")
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise AuthenticationFailed(f"the bearer token is not a JWT ({error})") from None
    if header.get("alg") != SIGNING_ALGORITHM:
        raise AuthenticationFailed(f"signing algorithm {header.get('alg')!r} is not accepted")
    if claims.get("iss") != CHANNEL_ISSUER:
        raise AuthenticationFailed(f"issuer {claims.get('iss')!r} is not the Bot Framework")
    key = await keys.get(header.get("kid"))
    if channel_id and key.endorsements and channel_id not in key.endorsements:
        raise AuthenticationFailed(f"the signing key is not endorsed for channel {channel_id!r}")


# --------------------------------------------------------------------------- outbound


class ClientCredentialsTokens:
    """OAuth client-credentials tokens from ``token_url``, cached per scope.

    A token is reused until ``refresh_margin`` seconds (at most half its lifetime) before it
    expires. ``get`` runs the POST in a worker thread; ``get_blocking`` is what the SDK's
    synchronous ``signed_session`` ends up calling, and normally finds the token cached.
    """

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretValue,
        refresh_margin: float = 300.0,
        timeout: float = 10.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.token_url = require_secure_url(token_url, what="teams.token_url")
        self.client_id = client_id
        self._secret = client_secret
        self._margin = refresh_margin
        self._timeout = timeout
        self._clock = clock
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"ClientCredentialsTokens(token_url={self.token_url!r}, client_id={self.client_id!r})"
        )

    async def get(self, scope: str, *, force_refresh: bool = False) -> str:
        return await asyncio.to_thread(self.get_blocking, scope, force_refresh=force_refresh)

    def get_blocking(self, scope: str, *, force_refresh: bool = False) -> str:
        with self._lock:
            cached = self._cache.get(scope)
            if cached is not None and not force_refresh and self._clock() < cached[1]:
                return cached[0]
            token, lifetime = self._request(scope)
            refresh_at = self._clock() + lifetime - min(self._margin, lifetime / 2)
            self._cache[scope] = (token, refresh_at)
            return token

    def _request(self, scope: str) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret.reveal(),
            "scope": scope if scope.endswith("/.default") else f"{scope}/.default",
        }
        try:
            response = httpx.post(self.token_url, data=form, timeout=self._timeout)
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise OutboundTokenError(f"token request to {self.token_url} failed: {error}") from None
        if response.status_code != 200 or not isinstance(body, dict):
            raise OutboundTokenError(
                _describe_token_error(self.token_url, response.status_code, body)
            )
        token = body.get("access_token")
        try:
            lifetime = float(body.get("expires_in", 0))
        except (TypeError, ValueError):
            lifetime = 0.0
        if not isinstance(token, str) or not token or lifetime <= 0:
            raise OutboundTokenError(f"{self.token_url} answered without access_token/expires_in")
        return token, lifetime


def _describe_token_error(url: str, status: int, body: object) -> str:
    detail = ""
    if isinstance(body, Mapping):
        detail = f": {body.get('error', '')} {str(body.get('error_description', ''))[:200]}"
    return f"{url} refused the client credentials (HTTP {status}){detail}".rstrip()


class TokenUrlAppCredentials(AppCredentials):
    """AppCredentials whose token comes from :class:`ClientCredentialsTokens` (not msal)."""

    def __init__(
        self, *, app_id: str, oauth_scope: str, tokens: ClientCredentialsTokens | None
    ) -> None:
        super().__init__(app_id=app_id, oauth_scope=oauth_scope)
        self._tokens = tokens
        self.oauth_endpoint = tokens.token_url if tokens is not None else ""

    def get_access_token(self, force_refresh: bool = False) -> str:
        if self._tokens is None:
            raise OutboundTokenError("outbound authentication is disabled (dev mode)")
        return self._tokens.get_blocking(self.oauth_scope, force_refresh=force_refresh)


class TokenUrlCredentialsFactory(ServiceClientCredentialsFactory):
    """Credentials for our one app id; ``app_id=None`` disables authentication (dev mode)."""

    def __init__(self, *, app_id: str | None, tokens: ClientCredentialsTokens | None) -> None:
        if bool(app_id) != (tokens is not None):
            raise ValueError("an app id needs a token source, and only an app id has one")
        self.app_id = app_id or None
        self.tokens = tokens

    async def is_valid_app_id(self, app_id: str) -> bool:
        return self.app_id is not None and app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return self.app_id is None

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        if self.tokens is None:
            return TokenUrlAppCredentials(app_id="", oauth_scope=BOT_FRAMEWORK_SCOPE, tokens=None)
        if app_id != self.app_id:
            raise OutboundTokenError(f"no credentials for app id {app_id!r}")
        scope = oauth_scope or BOT_FRAMEWORK_SCOPE
        await self.tokens.get(scope)  # fetched off the event loop; signed_session finds it cached
        return TokenUrlAppCredentials(app_id=app_id, oauth_scope=scope, tokens=self.tokens)
