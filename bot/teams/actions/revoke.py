"""An integration owner's "Revoke now" on their copy of an active grant: the card carries a
required reason input, and the reason goes to core's revoke, which decides who may.

The request is read through core's door first (a non-party is refused and sees no card of
it). Anybody the revoke rule refuses — an approver who is no owner, the requester, a forged
card — is answered with a private message and nothing changes; an empty reason comes back on
the card, beside its input.
"""

from __future__ import annotations

from bot.teams.actions.approvals import as_seen_by
from bot.teams.actions.base import Answer, Click, say, show
from bot.teams.cards import verbs
from bot.teams.cards.elements import Notice
from core.domain.errors import GatepassError, InvalidRequest
from core.use_cases import grants


async def revoke(click: Click) -> Answer:
    current = await click.view()
    reason = click.text(verbs.REASON)
    try:
        view = await grants.revoke_as_owner(
            click.ctx,
            actor=click.actor,
            request_id=current.id,
            reason=reason,
            platform=click.platform,
        )
    except InvalidRequest as error:
        if error.field != verbs.REASON:
            return say(str(error))
        message = as_seen_by(click, await click.view())
        return show(await click.cards.approval(message, reason=reason, reason_error=str(error)))
    except GatepassError as error:
        return say(str(error))
    notice = Notice(f"Removing the access of request {view.id} now.", ok=True)
    message = as_seen_by(click, view)
    return show(await click.cards.approval(message, notice=notice))
