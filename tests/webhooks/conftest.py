from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import jsonschema
import pytest

from core.webhooks.payload import SCHEMA_PATH
from tests.cli.conftest import cli, secrets_env  # noqa: F401 - the CLI's fixtures
from tests.fakes.webhook_receiver import Arrived, WebhookReceiver
from tests.support.domain import Domain, config_with, make_domain

SECRET = "whsec-test-4f1d2a9c"
EVERY_EVENT = [
    "RequestCreated",
    "RequestApproved",
    "RequestRejected",
    "RequestGranted",
    "RequestExpired",
    "RequestFailed",
    "RequestRevoked",
    "BreakGlassUsed",
]
VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def webhook(url: str, **changes: Any) -> dict[str, Any]:
    return {
        "name": "siem",
        "url": url,
        "secret": "env:SIEM_WEBHOOK_SECRET",
        "events": EVERY_EVENT,
        "allow_insecure_loopback": True,
        **changes,
    }


def valid(arrived: Arrived) -> dict[str, Any]:
    """The body, checked against the payload's JSON Schema in the repository."""
    body = arrived.json
    VALIDATOR.validate(body)
    return body


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as running:
        yield running


DomainMaker = Callable[..., Any]


@pytest.fixture
async def hooked(
    database_url: str, encryption_key: str, receiver: WebhookReceiver
) -> AsyncIterator[DomainMaker]:
    """``await hooked(**webhook_changes)``: a domain with one webhook to the receiver."""
    made: list[Domain] = []

    async def make(**changes: Any) -> Domain:
        config = config_with(webhooks=[webhook(receiver.url, **changes)])
        domain = await make_domain(
            database_url, encryption_key, config, webhook_secrets={"siem": SECRET}
        )
        made.append(domain)
        return domain

    yield make
    for domain in made:
        await domain.ctx.store.close()
