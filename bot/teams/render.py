"""From domain messages to cards: the lookups a card needs (the approvers' Teams ids, whether
a reason is required, the durations an extension may ask for) and then the pure builders.

Shared by the notifier (first posts and updates) and the handler (answers to clicks), so both
show exactly the same card.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import singledispatchmethod

from bot.teams.cards.access import ready_card, warning_card
from bot.teams.cards.approval import ApprovalOptions, approval_card
from bot.teams.cards.break_glass import announced_card, review_card
from bot.teams.cards.channel import ChannelCardOptions, channel_card
from bot.teams.cards.elements import Element, Notice, clean
from bot.teams.cards.requester import (
    ended_card,
    outcome_card,
    owner_alert_card,
    receipt_card,
)
from bot.teams.references import TeamsAccounts
from core.context import Context
from core.domain import sentences
from core.domain.channels import ChannelApproval, channel_summary
from core.domain.messages import (
    AccessEnded,
    AccessReady,
    ApprovalRequested,
    BreakGlassAnnounced,
    ExpiryWarning,
    Message,
    OwnerAlert,
    RequestOutcome,
    RequestReceived,
    ReviewRequested,
)
from core.domain.views import RequestView
from core.use_cases import reads


class Cards:
    def __init__(self, *, ctx: Context, accounts: TeamsAccounts) -> None:
        self._ctx = ctx
        self._accounts = accounts

    def reason_required(self, view: RequestView) -> bool:
        return reads.approval_reason_required(self._ctx, view)

    async def approval(
        self,
        message: ApprovalRequested,
        *,
        notice: Notice | None = None,
        reason: str = "",
        reason_error: str | None = None,
    ) -> Element:
        view = message.request
        user_ids = (
            await self._accounts.ids_of(a.email for a in view.approvers) if view.is_pending else ()
        )
        return approval_card(
            message,
            ApprovalOptions(
                refresh_user_ids=user_ids,
                reason_required=self.reason_required(view),
                notice=notice,
                reason=reason,
                reason_error=reason_error,
            ),
        )

    async def channel(
        self,
        message: ChannelApproval,
        *,
        viewer: str | None = None,
        notice: Notice | None = None,
        reason: str = "",
        reason_error: str | None = None,
    ) -> Element:
        """The copy of an approval ask in a flow's approval channel (``viewer``: as the one
        approver who refreshed or clicked it sees it)."""
        view = message.request
        user_ids = (
            await self._accounts.ids_of(a.email for a in view.approvers) if view.is_pending else ()
        )
        return channel_card(
            message,
            ChannelCardOptions(
                viewer=viewer,
                refresh_user_ids=user_ids,
                reason_required=self.reason_required(view),
                notice=notice,
                reason=reason,
                reason_error=reason_error,
            ),
        )

    def extension_durations(self, view: RequestView) -> list[timedelta]:
        return reads.extension_durations(self._ctx, view)

    def warning(
        self,
        message: ExpiryWarning,
        *,
        notice: Notice | None = None,
        errors: Mapping[str, str] | None = None,
        typed: Mapping[str, str] | None = None,
    ) -> Element:
        return warning_card(
            message,
            durations=self.extension_durations(message.request),
            notice=notice,
            errors=errors,
            typed=typed,
        )

    @singledispatchmethod
    async def render(self, message: object) -> Element:
        """The card for one of ``core.domain.messages``, as the notifier posts and updates it."""
        raise TypeError(f"no Teams card for {type(message).__name__}")

    @render.register
    async def _(self, message: ApprovalRequested) -> Element:
        return await self.approval(message)

    @render.register
    async def _(self, message: RequestReceived) -> Element:
        return receipt_card(message)

    @render.register
    async def _(self, message: RequestOutcome) -> Element:
        return outcome_card(message)

    @render.register
    async def _(self, message: AccessReady) -> Element:
        return ready_card(message)

    @render.register
    async def _(self, message: ExpiryWarning) -> Element:
        return self.warning(message)

    @render.register
    async def _(self, message: AccessEnded) -> Element:
        return ended_card(message)

    @render.register
    async def _(self, message: OwnerAlert) -> Element:
        return owner_alert_card(message)

    @render.register
    async def _(self, message: BreakGlassAnnounced) -> Element:
        return announced_card(message)

    @render.register
    async def _(self, message: ReviewRequested) -> Element:
        return review_card(message)

    @render.register
    async def _(self, message: ChannelApproval) -> Element:
        return await self.channel(message)


def summary(message: object) -> str:
    """The notification text of a card (plain text: Teams shows it in the activity feed)."""
    if isinstance(message, ChannelApproval):
        return clean(channel_summary(message), limit=250)
    if not isinstance(message, Message):
        return "Gatepass"
    return clean(sentences.summary(message), limit=250)


def recipient(message: object) -> str | None:
    """Who a posted message was for (the approver, else the requester)."""
    if isinstance(message, ApprovalRequested):
        return message.approver.email
    if isinstance(message, ReviewRequested):
        return message.owner
    if isinstance(message, BreakGlassAnnounced):
        return None  # a channel's message
    view: RequestView | None = getattr(message, "request", None)
    return view.requester if view is not None else None
