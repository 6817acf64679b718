"""The ``webhooks:`` section: where Gatepass sends request events, signed with a secret.

Each webhook is ``{name, url, secret: env:NAME, events: [...]}``. The URL is https; plain http
only to a loopback address with ``allow_insecure_loopback: true`` (development). Event names are
checked against ``core.domain.webhook_events`` and a misspelt one names the nearest valid one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator

from core.config.network import is_loopback_host
from core.config.secrets import SecretRef, SecretUnavailable, SecretValue
from core.config.sections import NAME_PATTERN, Strict, _duration, _ref
from core.domain.webhook_events import unknown_event_problem

MAX_TIMEOUT = timedelta(seconds=60)


def url_problem(url: str, *, allow_insecure_loopback: bool) -> str | None:
    """Why Gatepass will not send to ``url`` (None when it will)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError as error:
        return f"{url!r} is not a URL ({error})"
    if parts.scheme not in ("https", "http") or not host:
        return f"{url!r} is not an https URL, e.g. https://siem.example.com/gatepass"
    if parts.username is not None or parts.password is not None:
        return "must not hold a user name or password: the signature proves who is sending"
    if parts.fragment:
        return f"{url!r} has a fragment (#…), which is never sent: remove it"
    if parts.scheme == "https":
        return None
    if not is_loopback_host(host):
        return (
            f"{url!r} is plain http: webhooks are sent over https only (plain http only to a "
            "loopback address, with allow_insecure_loopback: true, for development)"
        )
    if not allow_insecure_loopback:
        return (
            f"{url!r} is plain http: to a loopback address this needs "
            "allow_insecure_loopback: true (development only); otherwise use https"
        )
    return None


class WebhookConfig(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    url: str
    secret: SecretRef  # the HMAC key both sides share
    events: tuple[str, ...] = Field(min_length=1)
    allow_insecure_loopback: bool = False
    timeout: timedelta = timedelta(seconds=10)
    max_attempts: int = Field(10, ge=1, le=50)

    _secret = field_validator("secret", mode="before")(classmethod(lambda cls, v: _ref(v)))
    _timeout = field_validator("timeout", mode="before")(classmethod(lambda cls, v: _duration(v)))

    @field_validator("events")
    @classmethod
    def _events(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            problem = unknown_event_problem(name)
            if problem is not None:
                raise ValueError(problem)
        if len(set(value)) != len(value):
            raise ValueError("an event is listed twice")
        return value

    @model_validator(mode="after")
    def _url(self) -> WebhookConfig:
        problem = url_problem(self.url, allow_insecure_loopback=self.allow_insecure_loopback)
        if problem is not None:
            raise ValueError(f"[url] {problem}")
        if not timedelta(0) < self.timeout <= MAX_TIMEOUT:
            raise ValueError(f"[timeout] must be more than 0s and at most {MAX_TIMEOUT.seconds}s")
        return self

    def wants(self, event: str) -> bool:
        return event in self.events


def _unique_names(hooks: tuple[WebhookConfig, ...]) -> tuple[WebhookConfig, ...]:
    seen: set[str] = set()
    for hook in hooks:
        if hook.name in seen:
            raise ValueError(f"the webhook name {hook.name!r} is used twice")
        seen.add(hook.name)
    return hooks


Webhooks = Annotated[tuple[WebhookConfig, ...], AfterValidator(_unique_names)]


def resolve_webhook_secrets(
    hooks: tuple[WebhookConfig, ...], environ: Mapping[str, str]
) -> tuple[dict[str, SecretValue], list[tuple[str, SecretUnavailable]]]:
    """Each webhook's secret, and for each one that cannot be resolved, why."""
    resolved: dict[str, SecretValue] = {}
    missing: list[tuple[str, SecretUnavailable]] = []
    for hook in hooks:
        try:
            resolved[hook.name] = hook.secret.resolve(environ)
        except SecretUnavailable as error:
            missing.append((hook.name, error))
    return resolved, missing


__all__ = ["WebhookConfig", "Webhooks", "resolve_webhook_secrets", "url_problem"]
