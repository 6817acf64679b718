"""log_format: json — after a whole request, approval, grant, reveal and revoke (at DEBUG, so
the SDKs speak too), every log line parses as JSON, carries the request id and platform of the
HTTP request or the job id, kind and integration of the job it belongs to, and holds no secret:
no token, signing secret or encryption key, and not the password that was revealed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import aiohttp
import pytest

from bot.serve import secrets_of
from bot.slack import ids
from core import logs
from core.domain.lifecycle import Status
from core.jobs import handlers
from tests.slack.harness import SIGNING_SECRET, Harness
from tests.slack.test_scenario import (
    ALICE,
    BOB,
    _approve_as,
    _grant,
    _reveal_once,
    submit_request,
)

PASSWORD = "pw-gp-alice-1-Xy9!"


@pytest.fixture
def json_log(harness: Harness) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logs.handler("json", stream)
    logs.redact(secrets_of(harness.gatepass.settings))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


async def test_json_lines_carry_the_ids_and_no_secret(
    harness: Harness, json_log: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    request_id = await submit_request(harness)
    await harness.run_jobs()
    await _approve_as(harness, BOB, "Bob Ray", request_id)
    ready = await _grant(harness, request_id)
    await _reveal_once(harness, request_id, ready, caplog)
    assert (await harness.click(ALICE, ids.DONE, request_id, message=ready)).status == 200
    await harness.run_jobs()
    assert await harness.status(request_id) is Status.REVOKED
    await handlers.schedule_periodic(harness.ctx)  # a sync job, which logs what it found
    await harness.run_jobs()
    base = harness.url.removesuffix("/slack/events")
    async with (
        aiohttp.ClientSession() as session,
        session.get(base + "/healthz", headers={"X-Request-Id": "probe-42"}) as answer,
    ):
        assert answer.headers["X-Request-Id"] == "probe-42"

    text = json_log.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) > 20
    served = [
        x for x in lines if x["logger"] == "gatepass.http" and "/slack/events" in x["message"]
    ]
    assert served and all(x["platform"] == "slack" and len(x["request_id"]) == 16 for x in served)
    assert len({x["request_id"] for x in served}) == len(served)  # one id per request
    assert any(x.get("request_id") == "probe-42" for x in lines)
    synced = [x for x in lines if x["message"].startswith("sync prod-atlas")]
    assert synced and all(
        x["job_kind"] == "sync" and x["job_id"] and x["integration"] == "prod-atlas" for x in synced
    )
    settings = harness.gatepass.settings
    assert settings.slack is not None and settings.encryption_key is not None
    for secret in (
        PASSWORD,
        harness.slack.bot_token,
        SIGNING_SECRET,
        settings.encryption_key.reveal(),
    ):
        assert secret not in text
