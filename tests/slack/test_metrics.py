"""/metrics during a grant, scraped and parsed as Prometheus does: the decision, the request
statuses, the job runs, the interaction acks and HTTP requests are counted, the queue and the
active grants are read from the database, and the expiry lands in the lateness histogram."""

from __future__ import annotations

from tests.slack.harness import Harness
from tests.slack.test_scenario import BOB, _approve_as, submit_request
from tests.support.metrics import scrape


async def test_metrics_move_through_a_grant_and_its_expiry(harness: Harness) -> None:
    url = harness.url.removesuffix("/slack/events") + "/metrics"
    start = await scrape(url)
    request_id = await submit_request(harness)
    await harness.run_jobs()
    await _approve_as(harness, BOB, "Bob Ray", request_id)
    approved = await scrape(url)
    assert approved.value("gatepass_decisions_total", outcome="approve", platform="slack") == (
        start.value("gatepass_decisions_total", outcome="approve", platform="slack") + 1
    )
    for status in ("pending", "approved"):  # submitted, then approved
        assert approved.value("gatepass_access_requests_total", status=status) == (
            start.value("gatepass_access_requests_total", status=status) + 1
        )
    assert approved.value("gatepass_jobs_queued", kind="grant") == 1
    assert approved.value("gatepass_jobs_due", kind="grant") == 1
    assert approved.value("gatepass_database_up") == 1
    acks = "gatepass_interaction_ack_seconds_count"
    assert approved.value(acks, platform="slack", transport="http") > start.value(
        acks, platform="slack", transport="http"
    )
    served = "gatepass_http_requests_total"
    assert approved.value(served, route="/slack/events", code="200") > start.value(
        served, route="/slack/events", code="200"
    )

    await harness.run_jobs()
    granted = await scrape(url)
    assert granted.value("gatepass_active_grants", integration="prod-atlas") == 1
    assert granted.value("gatepass_jobs_queued", kind="grant") == 0
    assert granted.value("gatepass_job_attempts_total", kind="grant", outcome="done") == (
        start.value("gatepass_job_attempts_total", kind="grant", outcome="done") + 1
    )

    harness.clock.advance(minutes=61)  # the hour is up; the expiry runs a minute late
    await harness.run_jobs()
    expired = await scrape(url)
    assert expired.value("gatepass_active_grants", integration="prod-atlas") == 0
    count = "gatepass_revoke_lateness_seconds_count"
    assert expired.value(count, kind="expire") == start.value(count, kind="expire") + 1
    late = expired.value("gatepass_revoke_lateness_seconds_sum", kind="expire") - start.value(
        "gatepass_revoke_lateness_seconds_sum", kind="expire"
    )
    assert 55 <= late <= 65
    assert expired.value("gatepass_revoke_lateness_seconds_bucket", kind="expire", le="30.0") == (
        start.value("gatepass_revoke_lateness_seconds_bucket", kind="expire", le="30.0")
    )
    assert expired.value("gatepass_access_requests_total", status="expired") == (
        start.value("gatepass_access_requests_total", status="expired") + 1
    )
