"""The Slack Web API client, the bolt app, and the two ways Slack reaches it.

Over HTTP, :func:`mount` puts the bolt app on the shared aiohttp application at
``/slack/events``: commands, interactions, options and events all arrive there, each checked
against the signing secret (bolt answers 401 to a bad signature or a timestamp more than five
minutes away). Over Socket Mode, :func:`start_socket_mode` opens a WebSocket instead; no public
URL is needed.

``api_url`` is Slack's (``https://slack.com/api/``) in production and a local fake in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.slack.admission import CURRENT, QUICK, Admission
from bot.slack.ids import EVENTS_PATH
from core import logs, metrics
from core.config.schema import SlackConfig
from core.config.settings import SlackSecrets

SLACK_API_URL = "https://slack.com/api/"
LOGGER_NAME = "gatepass.slack"


class RateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Retries a 429 after the ``Retry-After`` Slack sent (plus up to ``jitter`` seconds, so
    replicas throttled together do not come back together), unless that is longer than
    ``max_wait`` seconds: then the call fails at once (``ratelimited``) and the caller's own
    retry (a job with backoff) takes over instead of a request handler sleeping for minutes.
    """

    def __init__(
        self, *, max_retry_count: int = 2, max_wait: float = 30.0, jitter: float = 1.0
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.jitter = jitter

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return _retry_after(response) <= self.max_wait

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        delay = max(0.0, _retry_after(response)) if response is not None else 1.0
        await asyncio.sleep(delay + random.uniform(0, self.jitter))
        state.increment_current_attempt()


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            try:
                return float(values[0])
            except (IndexError, ValueError):
                return 1.0
    return 1.0


def retry_handlers(
    *,
    rate_limit_retries: int = 2,
    max_retry_after: float = 30.0,
    retry_jitter: float = 1.0,
    connection_retries: int = 2,
) -> list[AsyncRetryHandler]:
    """Retry a 429 (honouring ``Retry-After``) and a dropped connection; nothing else.

    A 5xx is not retried: Slack may have posted the message already, and a retry would post it
    twice. The caller's job retry decides what to do with it.
    """
    return [
        RateLimitRetryHandler(
            max_retry_count=rate_limit_retries, max_wait=max_retry_after, jitter=retry_jitter
        ),
        AsyncConnectionErrorRetryHandler(max_retry_count=connection_retries),
    ]


class CountingWebClient(AsyncWebClient):
    """An ``AsyncWebClient`` that counts every failed call (``gatepass_chat_api_errors``):
    Slack's error code, or the kind of connection failure."""

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            metrics.chat_api_error("slack", str(error.response.get("error") or "http_error"))
            raise
        except Exception as error:
            metrics.chat_api_error("slack", type(error).__name__)
            raise


def build_web_client(
    *,
    token: str,
    api_url: str = SLACK_API_URL,
    timeout: int = 30,
    rate_limit_retries: int = 2,
    max_retry_after: float = 30.0,
    retry_jitter: float = 1.0,
    connection_retries: int = 2,
    logger: logging.Logger | None = None,
) -> AsyncWebClient:
    """An ``AsyncWebClient`` for ``api_url`` that retries rate limits and dropped connections."""
    return CountingWebClient(
        token=token,
        base_url=api_url if api_url.endswith("/") else api_url + "/",
        timeout=timeout,
        logger=logger or logging.getLogger(LOGGER_NAME),
        retry_handlers=retry_handlers(
            rate_limit_retries=rate_limit_retries,
            max_retry_after=max_retry_after,
            retry_jitter=retry_jitter,
            connection_retries=connection_retries,
        ),
    )


def build_bolt_app(
    *,
    bot_token: str,
    signing_secret: str,
    api_url: str = SLACK_API_URL,
    client: AsyncWebClient | None = None,
    logger: logging.Logger | None = None,
) -> AsyncApp:
    """The bolt app: acks first and runs listeners after (``process_before_response=False``).

    Building it does not reach Slack: bolt's async app has no start-up token check
    (``token_verification_enabled`` exists only on the sync ``App``); the first request it
    handles calls ``auth.test`` once, through ``client``. Every HTTP request must carry a valid
    signature (``request_verification_enabled``); Socket Mode needs none.
    """
    if not signing_secret.strip():
        raise ValueError("the Slack signing secret is empty")
    if not bot_token.strip():
        raise ValueError("the Slack bot token is empty")
    logger = logger or logging.getLogger(LOGGER_NAME)
    with _without_env_token_warning(logger):
        return AsyncApp(
            name="gatepass",
            logger=logger,
            client=client or build_web_client(token=bot_token, api_url=api_url, logger=logger),
            signing_secret=signing_secret,
            process_before_response=False,
            request_verification_enabled=True,
            raise_error_for_unhandled_request=False,
            ignoring_self_events_enabled=True,
        )


@contextlib.contextmanager
def _without_env_token_warning(logger: logging.Logger) -> Iterator[None]:
    """Bolt reads ``SLACK_BOT_TOKEN`` from the environment even when it is given a client, and
    warns at every start that the token is unused: with ``bot_token: env:SLACK_BOT_TOKEN`` (the
    usual config) that line is noise. The client holds the same token."""

    def keep(record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()

    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def bolt_app_from_settings(
    config: SlackConfig, secrets: SlackSecrets, *, logger: logging.Logger | None = None
) -> AsyncApp:
    """:func:`build_bolt_app` from the validated config and its resolved secrets."""
    return build_bolt_app(
        bot_token=secrets.bot_token.reveal(),
        signing_secret=secrets.signing_secret.reveal(),
        api_url=config.api_url,
        logger=logger,
    )


class ReplayGuard:
    """Refuses a signed request that was already delivered once.

    Slack signs each delivery with its own timestamp and bolt refuses a timestamp more than five
    minutes away; within those five minutes a captured request would still verify. This keeps
    the signatures of the last ``window`` seconds (in memory: after that bolt refuses the request
    anyway) and answers a second delivery of the same signed request with 401. With ``shared``
    (core's record of seen deliveries), a replay sent to another replica is refused as well.
    """

    def __init__(
        self,
        *,
        signing_secret: str,
        window: float = 6 * 60,
        max_entries: int = 200_000,
        clock: Callable[[], float] = time.time,
        shared: Callable[[str, float], Awaitable[bool]] | None = None,
    ) -> None:
        self._shared = shared
        self._verifier = SignatureVerifier(signing_secret)
        self._window = window
        self._max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_delivery(self, body: bytes, headers: dict[str, str]) -> bool:
        """False for a request whose signature is invalid or was seen before."""
        if not self._verifier.is_valid_request(body, headers):
            return False
        signature = {k.lower(): v for k, v in headers.items()}["x-slack-signature"]
        now = self._clock()
        while self._seen and (
            next(iter(self._seen.values())) < now or len(self._seen) >= self._max_entries
        ):
            self._seen.popitem(last=False)
        if signature in self._seen:
            return False
        self._seen[signature] = now + self._window
        return True

    def admission(self, body: bytes, headers: dict[str, str]) -> Admission | None:
        """None for a request whose signature is invalid or that this replica saw before; else
        its :class:`Admission`, whose check on every replica (when shared) has started."""
        if not self.first_delivery(body, headers):
            return None
        if self._shared is None:
            return Admission()
        signature = {k.lower(): v for k, v in headers.items()}["x-slack-signature"]
        return Admission(self._shared(signature, self._clock() + self._window))

    async def admit(self, body: bytes, headers: dict[str, str]) -> bool:
        """``first_delivery`` here, then (when shared) on every replica, waiting for both."""
        admission = self.admission(body, headers)
        return admission is not None and await admission.confirmed()


def events_route(
    app: AsyncApp, path: str = EVENTS_PATH, *, replay_guard: ReplayGuard | None = None
) -> web.RouteDef:
    """The route (POST ``path``) that serves ``app`` with bolt's aiohttp adapter.

    With ``replay_guard``, a signed request delivered a second time is refused with 401.
    """

    async def handle(request: web.Request) -> web.StreamResponse:
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not timestamp.isascii() or not timestamp.isdigit():
            # bolt would fail on int() with a 500; a malformed timestamp is simply unsigned.
            return web.json_response({"error": "invalid request"}, status=401)
        admission = Admission()
        if replay_guard is not None:
            seen = replay_guard.admission(await request.read(), dict(request.headers))
            if seen is None or await seen.replay_known_within(QUICK):
                return web.json_response({"error": "invalid request"}, status=401)
            admission = seen
        started = time.monotonic()
        bolt_request = await to_bolt_request(request)
        token = CURRENT.set(admission)
        try:
            bolt_response = await app.async_dispatch(bolt_request)
        finally:
            CURRENT.reset(token)
        metrics.ack_latency("slack", "http", time.monotonic() - started)
        return await to_aiohttp_response(bolt_response)

    return web.post(path, handle)


def mount(
    app: AsyncApp,
    web_app: web.Application,
    path: str = EVENTS_PATH,
    *,
    replay_guard: ReplayGuard | None = None,
) -> None:
    """Serve ``app`` on ``web_app`` at ``path`` (see :func:`events_route`)."""
    web_app.router.add_routes([events_route(app, path, replay_guard=replay_guard)])


class SocketModeHandler(AsyncSocketModeHandler):
    """bolt's handler, with each envelope's id as the request id of its log lines and the time
    to its ack measured."""

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.monotonic()
        with logs.bound(request_id=req.envelope_id, platform="slack"):
            await super().handle(client, req)
        metrics.ack_latency("slack", "socket", time.monotonic() - started)


async def start_socket_mode(
    app: AsyncApp,
    *,
    app_token: str,
    api_url: str = SLACK_API_URL,
    ping_interval: float = 10,
) -> AsyncSocketModeHandler:
    """Connect ``app`` to Slack over Socket Mode; ``await handler.close_async()`` to stop.

    The first ``apps.connections.open`` is made here, so a wrong app token fails the start
    (``SlackApiError``) instead of being retried forever in the background; after that the
    handler reconnects by itself when Slack asks it to or the connection drops.
    """
    handler = SocketModeHandler(
        app,
        app_token=app_token,
        web_client=build_web_client(token=app_token, api_url=api_url, logger=app.logger),
        logger=app.logger,
        ping_interval=ping_interval,
    )
    try:
        handler.client.wss_uri = await handler.client.issue_new_wss_url()
        await handler.connect_async()
    except BaseException:
        await handler.close_async()
        raise
    return handler
