"""The Bot Framework clients' retry policy, built cheaply, retries exactly what msrest's own
does: the same HTTP codes, the same attempts and backoff."""

from __future__ import annotations

from msrest.universal_http.requests import ClientRetryPolicy

from bot.teams.retry_policy import build_retry_policies_cheaply

STOCK_SAFE_CODES = [i for i in range(500) if i != 408] + [501, 505]  # msrest's own definition


def test_the_retried_codes_are_msrests_own() -> None:
    build_retry_policies_cheaply()
    build_retry_policies_cheaply()  # idempotent
    assert isinstance(ClientRetryPolicy.safe_codes, frozenset)
    assert ClientRetryPolicy.safe_codes == frozenset(STOCK_SAFE_CODES)
    policy = ClientRetryPolicy().policy
    assert policy.status_forcelist == [i for i in range(999) if i not in STOCK_SAFE_CODES]
    assert 408 in policy.status_forcelist and 503 in policy.status_forcelist
    assert 404 not in policy.status_forcelist and 501 not in policy.status_forcelist
    assert (policy.total, policy.connect, policy.read, policy.backoff_factor) == (3, 3, 3, 0.8)
