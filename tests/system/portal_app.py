"""A Gatepass app with one Atlas UI integration (``atlas-ui``) on the Atlas fake, its worker
driven by a moved clock, and the chat platforms recorded at the port."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.app import Gatepass, build
from core.config.schema import parse_config
from core.config.settings import Settings, resolve_settings
from core.jobs import handlers
from core.storage.request_views import load_view
from core.use_cases import approvals, requests
from core.use_cases.eligibility import Draft
from tests.fakes.atlas import ORG_ID, PRIVATE_KEY, FakeAtlas
from tests.support.clock import ManualClock
from tests.support.recording_notifier import RecordingNotifier, recording_platform

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"
PORTAL = "atlas-ui"


def portal_config(atlas_url: str, database_url: str) -> dict[str, Any]:
    return {
        "database_url": database_url,
        "encryption_key": "env:GATEPASS_KEY",
        "directory": {
            "users": [
                {"email": ALICE, "name": "Alice Doe", "groups": ["analysts"]},
                {"email": BOB, "name": "Bob Ray", "groups": ["atlas-admins"]},
                {"email": CAROL, "name": "Carol Lin", "groups": ["analysts"]},
            ]
        },
        "integrations": [
            {
                "name": PORTAL,
                "type": "mongodb-atlas-portal",
                "organization_id": ORG_ID,
                "atlas_url": atlas_url,
                "secret": {"public_key": "env:ATLAS_PUBLIC", "private_key": "env:ATLAS_PRIVATE"},
                "integration_owners": [{"attribute": "group", "value": "atlas-admins"}],
            }
        ],
        "access_flows": [
            {
                "name": "atlas-ui-read",
                "requestors": [{"attribute": "group", "value": "analysts"}],
                "integration": PORTAL,
                "resources": ["project:*", "organization:*"],
                "permissions": ["GROUP_READ_ONLY", "ORG_READ_ONLY"],
                "durations": ["1h", "8h"],
            }
        ],
    }


def portal_settings(atlas: FakeAtlas, database_url: str, key: str) -> Settings:
    environ = {"GATEPASS_KEY": key, "ATLAS_PUBLIC": "gpfakepublickey", "ATLAS_PRIVATE": PRIVATE_KEY}
    data = portal_config(atlas.url, database_url)
    return resolve_settings(parse_config(data), config_path="t", environ=environ)


async def start_portal(
    settings: Settings, clock: ManualClock
) -> tuple[Gatepass, RecordingNotifier]:
    chat = RecordingNotifier()
    app = await build(settings, clock=clock, platforms=[recording_platform(chat)])
    await handlers.schedule_periodic(app.ctx)
    await app.worker.run_due()  # the first sync discovers the organization and its projects
    return app, chat


async def granted(app: Gatepass, requester: str = ALICE, hours: float = 1) -> str:
    """Request read-only on project Sales, approved by Bob, the grant job run: the id."""
    draft = Draft(
        PORTAL, "project", "Sales", "GROUP_READ_ONLY", timedelta(hours=hours), "quarter review"
    )
    view = await requests.submit(app.ctx, requester=requester, draft=draft, platform="slack")
    await app.worker.run_due()  # the approvers are asked
    await approvals.decide(
        app.ctx, approver=BOB, request_id=view.id, outcome="approve", reason=None, platform="slack"
    )
    await app.worker.run_due()
    return view.id


async def view_of(app: Gatepass, request_id: str) -> Any:
    async with app.ctx.store.reading() as session:
        return await load_view(session, app.ctx.directory, request_id)


async def later(app: Gatepass, clock: ManualClock, **delta: float) -> None:
    clock.advance(**delta)
    await app.worker.run_due()
