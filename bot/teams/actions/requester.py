"""The requester's buttons: Cancel request, Reveal / Hide password, I'm done, Extend.

The password goes back only in the invoke response to the one user who pressed Reveal (Teams
shows it on their card and nowhere else); it is never sent as a message or an update, so
neither the conversation's history nor anybody else can see it.

Each reads the request through core's door first: whoever is no party of it is refused with a
message, and sees no card of it.
"""

from __future__ import annotations

from bot.teams.actions.base import Answer, Click, say, show
from bot.teams.cards import verbs
from bot.teams.cards.access import ready_card
from bot.teams.cards.elements import Element, Notice
from bot.teams.cards.requester import receipt_card
from core.domain.directory import normalize_email
from core.domain.durations import parse_duration
from core.domain.errors import GatepassError, InvalidRequest
from core.domain.messages import AccessReady, ExpiryWarning, RequestReceived
from core.domain.views import RequestView
from core.use_cases import grants, requests


async def cancel(click: Click) -> Answer:
    current = await click.own()
    try:
        view = await requests.cancel(
            click.ctx, actor=click.actor, request_id=current.id, platform=click.platform
        )
    except GatepassError as error:
        return show(receipt_card(RequestReceived(await click.own()), notice=Notice(str(error))))
    return show(
        receipt_card(
            RequestReceived(view), notice=Notice(f"Request {view.id} is cancelled.", ok=True)
        )
    )


def _ready(view: RequestView, *, notice: Notice | None = None) -> Element:
    return ready_card(AccessReady(view, password_waiting=view.password_waiting), notice=notice)


async def reveal(click: Click) -> Answer:
    current = await click.own()
    try:
        password = await grants.reveal_password(
            click.ctx, actor=click.actor, request_id=current.id, platform=click.platform
        )
    except GatepassError as error:
        return show(_ready(await click.own(), notice=Notice(str(error))))
    view = await click.own()
    return show(ready_card(AccessReady(view, password_waiting=False), password=password))


async def hide(click: Click) -> Answer:
    return show(_ready(await click.own()))


def _card_for(click: Click, view: RequestView, notice: Notice) -> Element:
    if click.text(verbs.CARD) == verbs.WARNING_CARD:
        return click.cards.warning(ExpiryWarning(view), notice=notice)
    return _ready(view, notice=notice)


async def done(click: Click) -> Answer:
    """I'm done: the requester ends their access (an integration owner may too, by the revoke
    rule; they are answered with a message, as the card is the requester's)."""
    current = await click.view()
    try:
        view = await grants.revoke(
            click.ctx,
            actor=click.actor,
            request_id=current.id,
            reason="ended early by the requester",
            platform=click.platform,
        )
    except GatepassError as error:
        if not _is_requester(click, current):
            return say(str(error))
        return show(_card_for(click, await click.own(), Notice(str(error))))
    if not _is_requester(click, view):
        return say(f"Removing the access of request {view.id} now.")
    return show(_card_for(click, view, Notice("Removing your access now.", ok=True)))


def _is_requester(click: Click, view: RequestView) -> bool:
    return view.requester == normalize_email(click.actor)


async def extend(click: Click) -> Answer:
    typed = {
        verbs.DURATION: click.text(verbs.DURATION),
        verbs.JUSTIFICATION: click.text(verbs.JUSTIFICATION),
    }
    current = await click.own()
    warning = ExpiryWarning(current)
    try:
        duration = parse_duration(typed[verbs.DURATION])
    except ValueError:
        errors = {verbs.DURATION: "Choose for how long to extend."}
        return show(click.cards.warning(warning, errors=errors, typed=typed))
    try:
        extension = await requests.extend(
            click.ctx,
            actor=click.actor,
            request_id=current.id,
            duration=duration,
            justification=typed[verbs.JUSTIFICATION],
            platform=click.platform,
        )
    except InvalidRequest as error:
        if error.field in (verbs.DURATION, verbs.JUSTIFICATION):
            errors = {error.field: str(error)}
            return show(click.cards.warning(warning, errors=errors, typed=typed))
        return show(click.cards.warning(warning, notice=Notice(str(error)), typed=typed))
    except GatepassError as error:
        return show(click.cards.warning(warning, notice=Notice(str(error)), typed=typed))
    notice = Notice(f"Extension requested: request {extension.id} waits for approval.", ok=True)
    return show(click.cards.warning(warning, notice=notice))
