"""``gatepass webhooks test NAME`` and ``gatepass webhooks deliveries [--failed] [--json]``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.jobs.handlers import job_kinds
from core.jobs.queue import Worker
from core.webhooks import signing
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.webhooks.conftest import SECRET, valid
from tests.webhooks.processes import setup

pytestmark = pytest.mark.slow


async def test_a_test_event_is_sent_signed_and_its_outcome_is_one_line(
    tmp_path: Path, sqlite_url: str, encryption_key: str, receiver: WebhookReceiver
) -> None:
    async with setup(tmp_path, sqlite_url, encryption_key, receiver.url) as rig:
        code, out, err = await rig.cli("webhooks", "test", "siem")
    assert code == 0, err
    (line,) = out.splitlines()
    (arrived,) = receiver.arrived
    assert line.startswith("webhook siem: test event delivered (HTTP 200, ")
    assert line.endswith(f"delivery {arrived.delivery_id}")
    body = valid(arrived)
    assert body["event"] == "WebhookTest" and body["test"] is True and body["request"] is None
    header = arrived.headers[signing.SIGNATURE_HEADER]
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert signing.verify(SECRET, header, arrived.body, now=timestamp)
    assert SECRET not in out + err


async def test_a_redirect_to_another_host_is_shown_as_a_failure(
    tmp_path: Path, sqlite_url: str, encryption_key: str, receiver: WebhookReceiver
) -> None:
    receiver.redirect_to("https://collector.elsewhere.example/hook")
    async with setup(tmp_path, sqlite_url, encryption_key, receiver.url) as rig:
        code, _out, err = await rig.cli("webhooks", "test", "siem")
    assert code == 1
    (line,) = err.splitlines()
    assert line.startswith(
        "webhook siem: test event failed: HTTP 302: redirected to another host "
        "(collector.elsewhere.example); redirects are never followed"
    )
    assert len(receiver.arrived) == 1


async def test_check_config_online_names_a_webhook_that_redirects(
    tmp_path: Path, sqlite_url: str, encryption_key: str, receiver: WebhookReceiver
) -> None:
    async with setup(tmp_path, sqlite_url, encryption_key, receiver.url) as rig:
        # Atlas gets its secrets (and then is unreachable), so the online checks run at all.
        rig.env.update(ATLAS_PUBLIC="public", ATLAS_PRIVATE="private")
        _code, out, err = await rig.cli("check-config", "--online")
        assert "webhook siem" not in out + err  # a receiver that only takes POSTs: fine
        receiver.redirect_to("https://collector.elsewhere.example/hook")
        code, out, err = await rig.cli("check-config", "--online")
    assert code == 1
    assert (
        "webhook siem: HTTP 302: redirected to another host (collector.elsewhere.example); "
        "redirects are never followed"
    ) in out + err
    assert receiver.arrived == []  # probed with HEAD only: no event was sent


async def test_an_unknown_webhook_is_named(
    tmp_path: Path, sqlite_url: str, encryption_key: str, receiver: WebhookReceiver
) -> None:
    async with setup(tmp_path, sqlite_url, encryption_key, receiver.url) as rig:
        code, _out, err = await rig.cli("webhooks", "test", "sime")
    assert code == 1
    assert "there is no webhook named 'sime' (siem)" in err
    assert receiver.arrived == []


async def test_failed_deliveries_are_listed_with_their_reason(
    tmp_path: Path, sqlite_url: str, encryption_key: str, receiver: WebhookReceiver
) -> None:
    receiver.answer(503)
    async with setup(tmp_path, sqlite_url, encryption_key, receiver.url) as rig:
        first = await rig.submit()
        worker = Worker(rig.ctx, job_kinds(()))
        await worker.run_due()
        await rig.submit()
        await worker.run_due()
        code, out, err = await rig.cli("webhooks", "deliveries", "--failed", "--json")
        assert code == 0, err
        (failed,) = json.loads(out)
        assert failed["request_id"] == first and failed["event"] == "RequestCreated"
        assert failed["status"] == "retrying" and failed["attempts"] == 1
        assert failed["last_status_code"] == 503
        assert failed["last_error"] == "HTTP 503: receiver broke"

        code, out, err = await rig.cli("webhooks", "deliveries")
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0].split() == [
            "ID",
            "WEBHOOK",
            "EVENT",
            "REQUEST_ID",
            "STATUS",
            "ATTEMPTS",
            "LAST_ERROR",
            "CREATED_AT",
        ]
        assert [line.split()[4] for line in lines[1:]] == ["delivered", "retrying"]
        assert "HTTP 503: receiver broke" in lines[2]
