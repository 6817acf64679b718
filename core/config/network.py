"""Which addresses only this machine can reach: the one loopback rule, used wherever Gatepass
relaxes a check for a local address (``teams.dev_mode``, plain-http test endpoints)."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str | None) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1 (with or without brackets, IPv4-mapped included)."""
    if not host:
        return False
    name = host.strip().rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def dev_mode_problem(*, dev_mode: bool, host: str) -> str | None:
    """Why ``teams.dev_mode`` may not run on ``host`` (None when it may): it accepts
    unauthenticated requests, so only a loopback address may serve it."""
    if not dev_mode or is_loopback_host(host):
        return None
    return (
        "teams.dev_mode turns off Bot Framework authentication, so it only runs on a loopback "
        f"address (127.0.0.1, ::1, localhost); server.host is {host!r}"
    )
