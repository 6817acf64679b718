"""The Bot Framework SDK's HTTP clients, made cheap to build.

botbuilder builds a Connector client and a user-token client for every turn (each invoke, and
each card Gatepass replaces through the Bot Connector). Each builds msrest's
``ClientRetryPolicy``, whose ``__init__`` lists the retried HTTP codes by testing each of 999
codes against a *list* of 501 "safe" codes: about 2.6 ms of CPU per client, some 5 ms per turn,
a sixth of all the CPU a burst of 200 invokes costs. The safe codes as a frozenset give the very
same retry codes in microseconds. msrest is deprecated and takes no more changes (the same fix
was proposed upstream, Azure/msrest-for-python#266, and closed for that reason); botbuilder
still builds on it.
"""

from __future__ import annotations

from msrest.universal_http.requests import ClientRetryPolicy


def build_retry_policies_cheaply() -> None:
    """Idempotent: the safe codes become a frozenset (membership tests only read them)."""
    codes = ClientRetryPolicy.safe_codes
    if not isinstance(codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(codes)  # type: ignore[assignment]
