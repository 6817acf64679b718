"""How the client proves who it is: an API key pair (HTTP Digest) or a service account
(OAuth2 client credentials -> a bearer token valid one hour, cached and refreshed early).

No value here is ever logged or put in an error message.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from core.config.secrets import SecretValue
from core.domain.ports import Clock, IntegrationError
from core.integrations.atlas.errors import AtlasAuthError, AtlasUnavailable, describe

TOKEN_PATH = "/api/oauth/token"  # noqa: S105 - a URL path, not a secret
REFRESH_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class ApiKey:
    public_key: SecretValue
    private_key: SecretValue

    label = "API key"

    def digest(self) -> httpx.DigestAuth:
        return httpx.DigestAuth(self.public_key.reveal(), self.private_key.reveal())


@dataclass(frozen=True)
class ServiceAccount:
    client_id: SecretValue
    client_secret: SecretValue

    label = "service account"


Credentials = ApiKey | ServiceAccount


def credentials_from_secret(secret: dict[str, SecretValue], *, integration: str) -> Credentials:
    """The resolved secret mapping (``core.config.settings``) as typed credentials."""
    keys = set(secret)
    if keys == {"public_key", "private_key"}:
        return ApiKey(secret["public_key"], secret["private_key"])
    if keys == {"client_id", "client_secret"}:
        return ServiceAccount(secret["client_id"], secret["client_secret"])
    raise IntegrationError(
        f"integration {integration}: the secret must hold public_key and private_key, "
        "or client_id and client_secret"
    )


@dataclass
class _Token:
    value: str
    expires_at: datetime


class ServiceAccountTokens:
    """Bearer tokens for a service account, fetched from ``{atlas_url}/api/oauth/token``."""

    def __init__(
        self,
        account: ServiceAccount,
        *,
        atlas_url: str,
        integration: str,
        clock: Clock,
        refresh_margin: timedelta = REFRESH_MARGIN,
    ) -> None:
        self._account = account
        self._url = atlas_url.rstrip("/") + TOKEN_PATH
        self._integration = integration
        self._clock = clock
        self._margin = refresh_margin
        self._token: _Token | None = None
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Forget the cached token (Atlas answered 401 to it)."""
        self._token = None

    async def bearer(self, http: httpx.AsyncClient) -> str:
        """A token that stays valid for at least ``refresh_margin``."""
        async with self._lock:
            if self._token is None or self._clock.now() >= self._token.expires_at - self._margin:
                self._token = await self._fetch(http)
            return self._token.value

    async def _fetch(self, http: httpx.AsyncClient) -> _Token:
        try:
            response = await http.post(
                self._url,
                data={"grant_type": "client_credentials"},
                auth=httpx.BasicAuth(
                    self._account.client_id.reveal(), self._account.client_secret.reveal()
                ),
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as error:
            raise AtlasUnavailable(
                f"cannot reach Atlas's token endpoint {self._url} for integration "
                f"{self._integration} ({type(error).__name__})",
                retryable=True,
            ) from None
        if response.status_code != 200:
            raise self._refused(response)
        body = response.json()
        lifetime = float(body.get("expires_in", 3600))
        return _Token(
            value=str(body["access_token"]),
            expires_at=self._clock.now() + timedelta(seconds=lifetime),
        )

    def _refused(self, response: httpx.Response) -> IntegrationError:
        code, _detail, text = describe(response)
        if response.status_code in (400, 401, 403):
            return AtlasAuthError(
                f"Atlas rejected the service account for integration {self._integration} ({text})",
                status=response.status_code,
                error_code=code,
            )
        return AtlasUnavailable(
            f"Atlas's token endpoint failed for integration {self._integration} ({text})",
            status=response.status_code,
            retryable=True,
        )
