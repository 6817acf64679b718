"""``POST /api/messages``: botbuilder's CloudAdapter behind our own aiohttp handler.

Why not ``CloudAdapter.process()`` (botbuilder 4.17.1): it serializes the InvokeResponse body a
second time (``serializer_helper`` on an already-serialized dict raises ``AttributeError``), so
every ``Action.Execute`` answers 500; and it maps only ``PermissionError`` to 401, so expired,
forged or unknown-key tokens answer 500. :meth:`TeamsEndpoint.handle` authenticates first (any
failure: 401, no bot code runs), then runs the turn with ``adapter.process_activity`` and writes
the InvokeResponse body exactly once.

The bot plugs in as any botbuilder ``Bot`` (an ``ActivityHandler``/``TeamsActivityHandler``);
proactive messages use :attr:`TeamsEndpoint.adapter` with :attr:`TeamsEndpoint.app_id`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web
from botbuilder.core import Bot, InvokeResponse, serializer_helper
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import (
    Activity,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    CallerIdConstants,
)
from botframework.connector.auth import AuthenticateRequestResult, AuthenticationConfiguration
from msrest.exceptions import DeserializationError
from msrest.serialization import Model

from bot.teams.auth import (
    BOT_FRAMEWORK_SCOPE,
    CHANNEL_ISSUER,
    DEFAULT_OPENID_METADATA_URL,
    INBOUND_AUTH_ERRORS,
    ClientCredentialsTokens,
    OutboundTokenError,
    SigningKeys,
    SigningKeysUnavailable,
    TokenUrlCredentialsFactory,
    default_token_url,
    preflight_channel_token,
)
from bot.teams.retry_policy import build_retry_policies_cheaply
from core import metrics
from core.config.network import dev_mode_problem, is_loopback_host
from core.config.secrets import SecretValue

if TYPE_CHECKING:
    from core.config.schema import TeamsConfig
    from core.config.settings import TeamsSecrets

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
TEAMS_CHANNELS = ("msteams",)
DEV_CHANNELS = ("msteams", "emulator")
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_CONTENT_TYPE = "application/vnd.microsoft.activity.message"
ERROR_CONTENT_TYPE = "application/vnd.microsoft.error"


class DevModeRefused(ValueError):
    """``teams.dev_mode`` was asked for on a host other people can reach."""


def assert_dev_mode_allowed(host: str) -> None:
    """Dev mode (no app id, no JWT check) is only served on 127.0.0.0/8, ::1 or localhost."""
    problem = dev_mode_problem(dev_mode=True, host=host)
    if problem is not None:
        raise DevModeRefused(problem)


# --------------------------------------------------------------------------- invokes


@dataclass(frozen=True)
class CardAction:
    """The ``Action.Execute`` of an ``adaptiveCard/action`` invoke."""

    verb: str
    data: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    type: str = "Action.Execute"


def parse_card_action(value: AdaptiveCardInvokeValue | Mapping[str, Any] | None) -> CardAction:
    """The action from an invoke value; botbuilder leaves ``value.action`` a plain dict."""
    action: Any = value.action if isinstance(value, AdaptiveCardInvokeValue) else None
    if isinstance(value, Mapping):
        action = value.get("action")
    if isinstance(action, Model):
        action = action.serialize()
    if not isinstance(action, Mapping):
        raise ValueError("the invoke value has no action object")
    data = action.get("data")
    return CardAction(
        verb=str(action.get("verb") or ""),
        data=dict(data) if isinstance(data, Mapping) else {},
        id=action.get("id"),
        type=str(action.get("type") or ""),
    )


def card_response(card: Mapping[str, Any]) -> AdaptiveCardInvokeResponse:
    """Replace the card the user acted on (return it from ``on_adaptive_card_invoke``)."""
    return AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=dict(card))


class _TextInvokeResponse(AdaptiveCardInvokeResponse):
    # The stock model declares ``value`` a dict, so msrest cannot serialize a message's text.
    _attribute_map = {
        **AdaptiveCardInvokeResponse._attribute_map,
        "value": {"key": "value", "type": "object"},
    }


def message_response(text: str) -> AdaptiveCardInvokeResponse:
    """Show a short message instead of refreshing the card."""
    return _TextInvokeResponse(status_code=200, type=MESSAGE_CONTENT_TYPE, value=text)


def invoke_body(body: object) -> object:
    """An InvokeResponse body as JSON-ready data, serialized exactly once.

    ``ActivityHandler`` already serializes what ``on_adaptive_card_invoke`` returns; its own
    error responses are models holding a Python ``Exception`` as the value.
    """
    if isinstance(body, AdaptiveCardInvokeResponse) and isinstance(body.value, Exception):
        code, message = ([*map(str, body.value.args), "", ""])[:2]
        return {
            "statusCode": int(body.status_code or 500),
            "type": body.type or ERROR_CONTENT_TYPE,
            "value": {"code": code, "message": message},
        }
    if isinstance(body, Model):
        return serializer_helper(body)
    return body


def _http_response(invoke: InvokeResponse | None) -> web.Response:
    if invoke is None:
        return web.Response(status=201)
    status = int(invoke.status) if invoke.status is not None else 500
    if invoke.body is None:
        return web.Response(status=status)
    return web.json_response(invoke_body(invoke.body), status=status)


# --------------------------------------------------------------------------- endpoint


def _sdk_authentication(
    factory: TokenUrlCredentialsFactory, *, metadata_url: str, token_url: str, tenant_id: str | None
) -> ConfigurationBotFrameworkAuthentication:
    # Any TO_* value selects the SDK's parameterized authentication; the emulator metadata URL
    # points at our keys too, so no SDK path can reach Microsoft's metadata behind our back.
    configuration = SimpleNamespace(
        VALIDATE_AUTHORITY=True,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=token_url,
        TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=BOT_FRAMEWORK_SCOPE,
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=CHANNEL_ISSUER,
        OAUTH_URL=BOT_FRAMEWORK_SCOPE,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=metadata_url,
        TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=metadata_url,
        CALLER_ID=CallerIdConstants.public_azure_channel.value,
    )
    return ConfigurationBotFrameworkAuthentication(
        configuration,
        credentials_factory=factory,
        auth_configuration=AuthenticationConfiguration(tenant_id=tenant_id),
    )


class TeamsEndpoint:
    """The adapter plus the aiohttp handler for ``POST /api/messages``."""

    def __init__(
        self,
        *,
        bot: Bot,
        credentials: TokenUrlCredentialsFactory,
        authentication: ConfigurationBotFrameworkAuthentication,
        signing_keys: SigningKeys | None,
        tenant_id: str | None = None,
        channels: Iterable[str] = TEAMS_CHANNELS,
    ) -> None:
        self.bot = bot
        self.credentials = credentials
        self.signing_keys = signing_keys
        self.tenant_id = tenant_id
        self.channels = frozenset(channels)
        build_retry_policies_cheaply()
        self.adapter = CloudAdapter(authentication)
        self._authentication = authentication

    @classmethod
    def authenticated(
        cls,
        *,
        app_id: str,
        app_password: SecretValue | str,
        bot: Bot,
        tenant_id: str | None = None,
        token_url: str | None = None,
        openid_metadata_url: str | None = None,
        channels: Iterable[str] = TEAMS_CHANNELS,
    ) -> TeamsEndpoint:
        if not app_id or not app_password:
            raise ValueError("teams: app_id and app_password are required outside dev_mode")
        password = (
            app_password if isinstance(app_password, SecretValue) else SecretValue(app_password)
        )
        url = token_url or default_token_url(tenant_id)
        metadata_url = openid_metadata_url or DEFAULT_OPENID_METADATA_URL
        keys = SigningKeys(metadata_url=metadata_url)
        keys.install()
        tokens = ClientCredentialsTokens(token_url=url, client_id=app_id, client_secret=password)
        factory = TokenUrlCredentialsFactory(app_id=app_id, tokens=tokens)
        authentication = _sdk_authentication(
            factory, metadata_url=metadata_url, token_url=url, tenant_id=tenant_id
        )
        return cls(
            bot=bot,
            credentials=factory,
            authentication=authentication,
            signing_keys=keys,
            tenant_id=tenant_id,
            channels=channels,
        )

    @classmethod
    def dev(cls, *, host: str, bot: Bot, channels: Iterable[str] = DEV_CHANNELS) -> TeamsEndpoint:
        """No app id, no JWT check, replies go unauthenticated to a loopback serviceUrl."""
        assert_dev_mode_allowed(host)
        log.warning("Teams dev mode: /api/messages accepts unauthenticated activities on %s", host)
        factory = TokenUrlCredentialsFactory(app_id=None, tokens=None)
        authentication = _sdk_authentication(
            factory,
            metadata_url=DEFAULT_OPENID_METADATA_URL,
            token_url=default_token_url(),
            tenant_id=None,
        )
        return cls(
            bot=bot,
            credentials=factory,
            authentication=authentication,
            signing_keys=None,
            channels=channels,
        )

    @property
    def app_id(self) -> str | None:
        """The bot's app id, for ``adapter.continue_conversation(..., bot_app_id=...)``."""
        return self.credentials.app_id

    @property
    def dev_mode(self) -> bool:
        return self.signing_keys is None

    def add_routes(self, app: web.Application, *, path: str = MESSAGES_PATH) -> None:
        app.router.add_post(path, self.handle)
        app.on_startup.append(self._prefetch_on_startup)

    async def prefetch(self) -> None:
        """Load the signing keys now (in a thread) rather than on the first request."""
        if self.signing_keys is not None:
            await self.signing_keys.refresh()

    async def _prefetch_on_startup(self, _app: web.Application) -> None:
        try:
            await self.prefetch()
        except SigningKeysUnavailable as error:
            log.warning("Bot Framework signing keys not loaded yet (will retry): %s", error)

    async def handle(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        response = await self._handle(request)
        metrics.ack_latency("teams", "http", time.monotonic() - started)
        return response

    async def check(self) -> str | None:
        """Readiness: the Bot Framework signing keys can be fetched now (dev mode: none)."""
        if self.signing_keys is None:
            return None
        try:
            await self.signing_keys.refresh()
        except SigningKeysUnavailable as error:
            return f"signing keys unavailable: {error}"
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization")
        if not self.dev_mode and not header:
            return _refuse(401, "no Authorization header")
        activity = await _read_activity(request)
        if isinstance(activity, web.Response):
            return activity
        try:
            result = await self._authenticate(activity, header)
        except INBOUND_AUTH_ERRORS as error:
            return _refuse(401, str(error))
        except SigningKeysUnavailable as error:
            log.error("cannot authenticate Teams requests: %s", error)
            metrics.chat_api_error("teams", "signing_keys_unavailable")
            return web.Response(status=503, text="signing keys unavailable")
        refusal = self._out_of_scope(activity)
        if refusal:
            return _refuse(403, refusal)
        try:
            invoke = await self.adapter.process_activity(result, activity, self.bot.on_turn)
        except OutboundTokenError as error:
            log.error("no token for the Bot Connector: %s", error)
            metrics.chat_api_error("teams", "outbound_token")
            return web.Response(status=502, text="outbound token unavailable")
        return _http_response(invoke)

    async def _authenticate(
        self, activity: Activity, header: str | None
    ) -> AuthenticateRequestResult:
        if self.signing_keys is None:  # dev mode: the SDK hands out an anonymous identity
            if not is_loopback_host(urlsplit(activity.service_url or "").hostname):
                raise PermissionError("dev mode only replies to a loopback serviceUrl")
            return await self._authentication.authenticate_request(activity, None)
        await preflight_channel_token(
            header, channel_id=activity.channel_id, keys=self.signing_keys
        )
        return await self._authentication.authenticate_request(activity, header or "")

    def _out_of_scope(self, activity: Activity) -> str | None:
        if activity.channel_id not in self.channels:
            return f"channel {activity.channel_id!r} is not served"
        if self.tenant_id is not None and _tenant_of(activity) != self.tenant_id:
            return f"tenant {_tenant_of(activity)!r} is not this bot's tenant"
        return None


def _tenant_of(activity: Activity) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, Mapping) else {}
    tenant = data.get("tenant")
    if isinstance(tenant, Mapping) and tenant.get("id"):
        return str(tenant["id"])
    return activity.conversation.tenant_id if activity.conversation else None


async def _read_activity(request: web.Request) -> Activity | web.Response:
    if request.content_type != "application/json":
        return web.Response(status=415, text="expected application/json")
    try:
        body = json.loads(await request.text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return web.Response(status=400, text="the body is not JSON")
    if not isinstance(body, dict):
        return web.Response(status=400, text="the body is not an activity")
    try:
        activity = Activity().deserialize(body)
    except DeserializationError:
        return web.Response(status=400, text="the body is not an activity")
    if not activity.type or not activity.service_url or not activity.conversation:
        return web.Response(status=400, text="an activity needs type, serviceUrl, conversation")
    return activity


def _refuse(status: int, reason: str) -> web.Response:
    log.info("refused a Teams request (%d): %s", status, reason)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return web.Response(
        status=status, text="unauthorized" if status == 401 else "forbidden", headers=headers
    )


def build_teams_endpoint(
    *, config: TeamsConfig, secrets: TeamsSecrets | None, bot: Bot, host: str
) -> TeamsEndpoint:
    """From the validated settings: dev mode (loopback only) or the authenticated endpoint."""
    if config.dev_mode:
        return TeamsEndpoint.dev(host=host, bot=bot)
    if secrets is None:
        raise ValueError("teams: app_id and app_password could not be resolved")
    return TeamsEndpoint.authenticated(
        app_id=secrets.app_id.reveal(),
        app_password=secrets.app_password,
        tenant_id=secrets.tenant_id.reveal() if secrets.tenant_id else None,
        token_url=config.token_url,
        openid_metadata_url=config.openid_metadata_url,
        bot=bot,
    )
