"""Directory benchmark: provisioning a large directory over SCIM, and what its size costs.

    .venv/bin/python bench/directory.py [--users 10000] [--groups 500] [--samples 300]

The real app (SCIM edge included, SQLite in a temporary folder) is served on 127.0.0.1 in this
process, built as ``tests/scim/harness.py`` builds it; every provisioning call is a real HTTP
request with the bearer token, one after the other, as an identity provider sends them.

1. A 10-person directory is provisioned first (the baseline), then ``--users`` people and
   ``--groups`` groups with their memberships in a fresh database: users/s and groups/s, the
   rate over the first and the last tenth of the users (does a growing directory slow it?), and
   each figure's ratio to the 10-person directory's.
2. With each directory in place, ``--samples`` calls of ``approvers-for`` (the admin use case
   ``who_would_approve``) and of ``submit`` by the same requester for a resource whose owner
   group has the same three people in both: p50 and p99, and the large directory's figures as
   ratios of the small one's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from core.use_cases import admin, requests
from core.use_cases.eligibility import Draft
from tests.scim.harness import GROUP, App, okta_user, running

SMALL = 10
OWNERS = 3  # sales-owners: the same three approvers in both directories
MEMBERSHIPS = 3  # the team groups each person is in
# Owned by sales-owners (tests/support/domain.py); the requester is in data-eng.
DRAFT = Draft("prod-atlas", "database", "sales", "read", timedelta(hours=1), "bench")
NAMED = ("data-eng", "sales-owners", "dba")


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def email(index: int) -> str:
    return f"person{index:05d}@example.com"


@dataclass
class Provisioned:
    users: int
    groups: int
    memberships: int
    user_seconds: list[float]  # each POST /Users
    group_seconds: list[float]  # each POST /Groups

    def rate(self, seconds: Sequence[float]) -> float:
        return len(seconds) / sum(seconds)


async def timed(call: Awaitable[Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = await call
    return time.perf_counter() - began, result


async def provision(app: App, users: int, groups: int) -> Provisioned:
    """``users`` people, then ``groups`` groups: data-eng (one person in ten, the requester
    first), sales-owners (people 1 to 3), dba (people 4 and 5) and team groups, each person in
    ``MEMBERSHIPS`` of them."""
    ids: list[str] = []
    user_seconds = []
    for index in range(users):
        body = okta_user(email(index), f"Person {index}", external_id=f"x{index}", department="D")
        seconds, (status, user, _) = await timed(app.call("POST", "/Users", body))
        if status != 201:
            raise RuntimeError(f"POST /Users: HTTP {status}: {user}")
        user_seconds.append(seconds)
        ids.append(user["id"])
    teams = max(1, groups - len(NAMED))
    members: dict[str, list[str]] = {
        "data-eng": ids[:: max(1, SMALL)],
        "sales-owners": ids[1 : 1 + OWNERS],
        "dba": ids[1 + OWNERS : 3 + OWNERS],
    }
    for number in range(teams):
        members[f"team-{number:04d}"] = []
    for index, user_id in enumerate(ids):
        for k in range(MEMBERSHIPS):
            members[f"team-{(index * MEMBERSHIPS + k) % teams:04d}"].append(user_id)
    group_seconds = []
    for name, member_ids in list(members.items())[:groups]:
        body = {
            "schemas": [GROUP],
            "displayName": name,
            "members": [{"value": m} for m in sorted(set(member_ids))],
        }
        seconds, (status, group, _) = await timed(app.call("POST", "/Groups", body))
        if status != 201:
            raise RuntimeError(f"POST /Groups: HTTP {status}: {group}")
        group_seconds.append(seconds)
    memberships = sum(len(set(m)) for m in list(members.values())[:groups])
    return Provisioned(users, len(group_seconds), memberships, user_seconds, group_seconds)


async def latencies(samples: int, call: Callable[[], Awaitable[Any]]) -> list[float]:
    for _ in range(min(20, samples)):  # warm-up, not counted
        await call()
    found = []
    for _ in range(samples):
        seconds, _ = await timed(call())
        found.append(seconds * 1000)
    return found


async def measure(app: App, samples: int) -> dict[str, list[float]]:
    ctx = app.gatepass.ctx
    requester = email(0)
    _, routing = await admin.who_would_approve(ctx, requester=requester, draft=DRAFT)
    approvers = sorted(a.email for a in routing.approvers)
    if approvers != [email(i) for i in range(1, 1 + OWNERS)]:
        raise RuntimeError(f"unexpected approvers: {approvers}")

    async def approvers_for() -> Any:
        return await admin.who_would_approve(ctx, requester=requester, draft=DRAFT)

    async def submit() -> Any:
        return await requests.submit(ctx, requester=requester, draft=DRAFT, platform="slack")

    return {
        "approvers_for": await latencies(samples, approvers_for),
        "submit": await latencies(samples, submit),
    }


async def one_directory(
    folder: Path, key: str, users: int, groups: int, samples: int
) -> tuple[Provisioned, dict[str, list[float]], float]:
    url = f"sqlite+aiosqlite:///{folder / f'directory-{users}.db'}"
    async with running(url, key) as app:
        for _ in range(20):  # warm-up: the first requests' one-off costs are not counted
            status, _, _ = await app.call("GET", "/Users?count=1")
            if status != 200:
                raise RuntimeError(f"GET /Users: HTTP {status}")
        began = time.perf_counter()
        provisioned = await provision(app, users, groups)
        wall = time.perf_counter() - began
        measured = await measure(app, samples)
    return provisioned, measured, wall


def show_provisioning(name: str, p: Provisioned, wall: float) -> None:
    tenth = max(1, p.users // 10)
    first, last = p.rate(p.user_seconds[:tenth]), p.rate(p.user_seconds[-tenth:])
    print(
        f"{name}: {p.users} users, {p.groups} groups, {p.memberships} memberships "
        f"in {wall:.1f} s over HTTP"
    )
    print(
        f"  users/s {p.rate(p.user_seconds):8.1f}   first tenth {first:8.1f}   last tenth "
        f"{last:8.1f}   (a user at the end takes x{first / last:.2f} the time of one at the start)"
    )
    print(
        f"  groups/s {p.rate(p.group_seconds):7.1f}   POST /Users p50 "
        f"{percentile(p.user_seconds, 0.5) * 1000:.2f} ms   POST /Groups p50 "
        f"{percentile(p.group_seconds, 0.5) * 1000:.2f} ms"
    )


async def main(users: int, groups: int, samples: int) -> None:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    small_groups = min(groups, len(NAMED) + 2)
    with tempfile.TemporaryDirectory(prefix="gatepass-directory-bench-") as name:
        folder = Path(name)
        small, small_latency, small_wall = await one_directory(
            folder, key, SMALL, small_groups, samples
        )
        large, large_latency, large_wall = await one_directory(folder, key, users, groups, samples)
    print("SQLite in a temporary folder, the app on 127.0.0.1, same process, same run")
    show_provisioning("baseline", small, small_wall)
    show_provisioning("large", large, large_wall)
    users_ratio = large.rate(large.user_seconds) / small.rate(small.user_seconds)
    groups_ratio = large.rate(large.group_seconds) / small.rate(small.group_seconds)
    print(
        f"  ratio to the baseline: users/s x{users_ratio:.2f}   groups/s x{groups_ratio:.2f}"
        f"   (groups of ~{large.memberships / max(1, large.groups):.0f} vs "
        f"~{small.memberships / max(1, small.groups):.0f} members)"
    )
    print(f"latency, {samples} calls each, requester in data-eng, {OWNERS} approvers")
    for use_case in ("approvers_for", "submit"):
        few, many = small_latency[use_case], large_latency[use_case]
        print(
            f"  {use_case:<14} {SMALL:>6} people p50 {percentile(few, 0.5):7.2f} ms "
            f"p99 {percentile(few, 0.99):7.2f} ms | {users:>6} people p50 "
            f"{percentile(many, 0.5):7.2f} ms p99 {percentile(many, 0.99):7.2f} ms | "
            f"ratio p50 x{percentile(many, 0.5) / percentile(few, 0.5):.2f} "
            f"p99 x{percentile(many, 0.99) / percentile(few, 0.99):.2f}"
        )
    means = {
        u: statistics.fmean(large_latency[u]) / statistics.fmean(small_latency[u])
        for u in ("approvers_for", "submit")
    }
    print(
        f"  mean ratio: approvers_for x{means['approvers_for']:.2f}  submit x{means['submit']:.2f}"
    )


def _arguments() -> Any:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--samples", type=int, default=300, help="calls of each use case timed")
    arguments = parser.parse_args()
    if arguments.users < SMALL or arguments.groups < len(NAMED):
        parser.error(f"--users must be at least {SMALL} and --groups at least {len(NAMED)}")
    return arguments


if __name__ == "__main__":
    arguments = _arguments()
    asyncio.run(main(arguments.users, arguments.groups, arguments.samples))
