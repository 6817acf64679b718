"""Approvals in a shared channel: the message posted there and the port that posts it.

A flow with ``notify_approvers: channel`` or ``both`` has its approval ask posted to its
``approval_channel`` on each configured platform, for everyone there to see. The copy carries
the approval's content and its buttons — never the access card, never a password — and every
later update brings it to the request's state like every other copy. Who may decide is core's:
only the routed approvers; anyone else who clicks is refused privately and nothing changes.

Every ``Notifier`` posts it with ``post_to_channel`` and updates it with ``update_in_channel``,
like any channel message (a break-glass broadcast): one way to reach a channel per platform.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain import sentences
from core.domain.views import RequestView

CHANNEL_PURPOSE = "channel"
"""``posted_messages.purpose`` of a channel copy (``channel:<round>`` for the later asks)."""


@dataclass(frozen=True)
class ChannelApproval:
    """To a channel: this request waits for one of its approvers. Also the body of every later
    update of that copy: once the request is no longer pending it shows the final state."""

    request: RequestView
    reminder: bool = False


def channel_summary(message: ChannelApproval) -> str:
    """The notification line of a channel copy (the same on both platforms)."""
    view = message.request
    asked = sentences.plain(sentences.what(view))
    return f"Access request {view.id} from {view.requester_name}: {asked}"


def channel_purpose(round_: str | None) -> str:
    return CHANNEL_PURPOSE if round_ is None else f"{CHANNEL_PURPOSE}:{round_}"


def is_channel_copy(purpose: str) -> bool:
    return purpose == CHANNEL_PURPOSE or purpose.startswith(CHANNEL_PURPOSE + ":")
