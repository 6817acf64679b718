"""An integration owner's "Revoke now": the button on their copy of an active grant opens a
modal asking why; the submitted reason goes to core's revoke, which decides who may.

A click first reads the request through core's door (a non-party is refused and learns
nothing), then asks core whether the clicker may revoke it here; only then does the modal
open. The submission asks core again: a forged value from anybody else is refused privately
and nothing changes; an empty reason comes back beside the reason input.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.slack import ids
from bot.slack.actions.base import Click, ClickHandler, Modal, Submission, listen
from bot.slack.blocks import modals
from bot.slack.deps import Deps
from bot.slack.replies import metadata
from core.use_cases import grants

TITLE = "Revoke access"


async def _clicked(click: Click) -> None:
    current = await click.request()
    grants.check_revoker(click.ctx, current, click.actor)
    modal = modals.revoke_modal(
        view=current, private_metadata=metadata(request=current.id, **click.where)
    )
    try:
        await click.deps.client.views_open(trigger_id=click.trigger_id, view=modal)
    except SlackApiError as error:
        click.deps.logger.warning("could not open the revoke modal: %s", error)
        await click.tell(":warning: Slack did not open the form in time; click again.")


async def _reason_submitted(submission: Submission) -> None:
    current = await submission.request()
    await grants.revoke_as_owner(
        submission.ctx,
        actor=submission.actor,
        request_id=current.id,
        reason=submission.typed(modals.REASON_BLOCK, ids.REASON_INPUT),
        platform=submission.deps.platform,
    )
    # Every copy of the request, this one included, is updated once the access is gone.


ACTIONS: dict[str, ClickHandler] = {ids.REVOKE_NOW: _clicked}
MODALS: dict[str, Modal] = {
    ids.REVOKE_REASON: Modal(
        _reason_submitted,
        title=TITLE,
        trouble=modals.REASON_BLOCK,
        fields={"reason": modals.REASON_BLOCK},
    ),
}


def register(app: AsyncApp, deps: Deps) -> None:
    listen(app, deps, clicks=ACTIONS, submissions=MODALS)
