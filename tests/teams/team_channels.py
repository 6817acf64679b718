"""How a test installs the app in a team, as Teams tells the bot: the activities a team's
channels are learned from (``conversationUpdate``), shared by the approval-channel and the
break-glass tests, since both post to a team channel the same way."""

from __future__ import annotations

from typing import Any

from tests.fakes.teams import APP_ID, TENANT_ID
from tests.teams.harness import CAROL, TeamsHarness

TEAM = "19:team-general@thread.tacv2"  # a team's id is its General channel's


def in_team(channel_id: str, **data: Any) -> dict[str, Any]:
    """The fields of an activity that happened in ``channel_id`` of the team."""
    return {
        "conversation": {
            "conversationType": "channel",
            "isGroup": True,
            "tenantId": TENANT_ID,
            "id": channel_id,
        },
        "channelData": {
            "team": {"id": TEAM, "name": "Data platform"},
            "tenant": {"id": TENANT_ID},
            **data,
        },
    }


async def install_in_team(teams: TeamsHarness, channel: str, name: str) -> None:
    """Carol adds the app to the team; later she makes the channel ``channel``."""
    added = teams.channel.activity(
        "conversationUpdate",
        user=CAROL,
        membersAdded=[{"id": f"28:{APP_ID}"}],
        **in_team(TEAM, eventType="teamMemberAdded"),
    )
    assert (await teams.post(added))[0] in (200, 201)
    created = teams.channel.activity(
        "conversationUpdate",
        user=CAROL,
        **in_team(TEAM, eventType="channelCreated", channel={"id": channel, "name": name}),
    )
    assert (await teams.post(created))[0] in (200, 201)
