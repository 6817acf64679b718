"""The replay guard in front of bolt: one delivery per signed request, memory bounded."""

from __future__ import annotations

import time

from bot.slack.client import ReplayGuard
from tests.fakes.slack import sign

SECRET = "s3cret"


def delivery(body: bytes, stamp: int, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    return body, sign(body, secret, stamp)


def test_a_signed_request_is_accepted_once() -> None:
    now = [time.time()]
    guard = ReplayGuard(signing_secret=SECRET, window=360, clock=lambda: now[0])
    first = delivery(b"a=1", int(now[0]))
    assert guard.first_delivery(*first)
    assert not guard.first_delivery(*first)
    assert guard.first_delivery(*delivery(b"a=1", int(now[0]) + 1))  # a new delivery
    assert not guard.first_delivery(*delivery(b"a=2", int(now[0]), secret="other"))


def test_old_signatures_are_forgotten_and_memory_is_bounded() -> None:
    now = [time.time()]
    guard = ReplayGuard(signing_secret=SECRET, window=1, max_entries=3, clock=lambda: now[0])
    for number in range(5):
        assert guard.first_delivery(*delivery(f"n={number}".encode(), int(now[0])))
    assert len(guard._seen) <= 3
    now[0] += 2
    guard.first_delivery(*delivery(b"later", int(now[0])))
    assert len(guard._seen) == 1
