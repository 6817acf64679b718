"""The requester's cards about granted access: ready (connection details, Reveal password,
I'm done), the one-time password view, and the expiry warning (Extend, I'm done)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from bot.teams.cards import verbs
from bot.teams.cards.common import fact, parts, state_lines, what
from bot.teams.cards.elements import (
    Element,
    Notice,
    Run,
    card,
    choice_set,
    container,
    execute,
    heading,
    line,
    note,
    problem,
    text_input,
)
from core.config.secrets import SecretValue
from core.domain import sentences
from core.domain.durations import format_duration
from core.domain.lifecycle import Status
from core.domain.messages import AccessReady, ExpiryWarning
from core.domain.request_form import duration_choice
from core.domain.sentences import Fact, Said
from core.domain.views import RequestView
from core.use_cases.requests import MAX_JUSTIFICATION


def _connection(view: RequestView) -> list[Element]:
    facts = (*sentences.access_facts(view), *sentences.connection_details(view))
    notes = sentences.connection_notes(view)
    return [fact(f) for f in facts] + [line(Run(n, subtle=True), spacing="Small") for n in notes]


def _done(view: RequestView, origin: str) -> Element:
    return execute("I'm done", verb=verbs.DONE, data={verbs.REQUEST: view.id, verbs.CARD: origin})


def ready_card(
    message: AccessReady, *, password: SecretValue | None = None, notice: Notice | None = None
) -> Element:
    """The access card. ``password`` is given only for the single reveal answer, which goes
    back in the invoke response to the one user who pressed the button, never as a message."""
    view = message.request
    active = view.status is Status.ACTIVE
    body: list[Element] = [
        heading(
            f"✉️ {sentences.INVITED_HEADING}"
            if view.invited
            else ("🔓 Your access is ready" if active else "Your access")
        ),
        line(*what(view)),
        *_connection(view),
    ]
    actions: list[Element] = []
    if password is not None:
        body.append(
            container(
                [
                    fact(Fact("Password", Said(password.reveal(), literal=True))),
                    note(
                        "Shown once, only to you. Copy it now: Gatepass does not keep it and "
                        "cannot show it again.",
                        subtle=False,
                        color="Warning",
                    ),
                ],
                style="emphasis",
            )
        )
        actions.append(execute("Hide password", verb=verbs.HIDE, data={verbs.REQUEST: view.id}))
    elif active and message.password_waiting and view.password_waiting:
        actions.append(
            execute(
                "Reveal password",
                verb=verbs.REVEAL,
                data={verbs.REQUEST: view.id},
                style="positive",
            )
        )
        body.append(
            note("The password is shown once, on this card and only to you; it is never posted.")
        )
    if notice:
        body.append(notice.element())
    if active:
        actions.append(_done(view, verbs.READY_CARD))
    else:
        body += state_lines(view)
    return card(body, actions=actions)


def _duration_choices(durations: Sequence[timedelta]) -> list[tuple[str, str]]:
    return [(c.title, c.value) for c in map(duration_choice, durations)]


def warning_card(
    message: ExpiryWarning,
    *,
    durations: Sequence[timedelta] = (),
    notice: Notice | None = None,
    errors: Mapping[str, str] | None = None,
    typed: Mapping[str, str] | None = None,
) -> Element:
    """``durations``: what an extension may ask for (core's choices for this request)."""
    view, errors, typed = message.request, errors or {}, typed or {}
    body: list[Element] = [
        heading("⏳ Your access ends soon"),
        line(*parts(sentences.ends_soon(view))),
        fact(Fact("Ends", sentences.At(view.ends_at))),
    ]
    actions: list[Element] = []
    if view.status is Status.ACTIVE:
        if durations:
            default = format_duration(view.duration)
            offered = _duration_choices(durations)
            chosen = typed.get(verbs.DURATION) or (
                default if default in {v for _, v in offered} else offered[0][1]
            )
            body.append(
                choice_set(verbs.DURATION, label="Extend by", choices=offered, value=chosen)
            )
            if errors.get(verbs.DURATION):
                body.append(problem(errors[verbs.DURATION]))
            body.append(
                text_input(
                    verbs.JUSTIFICATION,
                    label="Why you need more time",
                    value=typed.get(verbs.JUSTIFICATION, ""),
                    multiline=True,
                    max_length=MAX_JUSTIFICATION,
                )
            )
            if errors.get(verbs.JUSTIFICATION):
                body.append(problem(errors[verbs.JUSTIFICATION]))
            body.append(note(sentences.EXTENDING_NOTE))
            actions.append(
                execute(
                    "Extend",
                    verb=verbs.EXTEND,
                    data={verbs.REQUEST: view.id, verbs.CARD: verbs.WARNING_CARD},
                    style="positive",
                )
            )
        actions.append(_done(view, verbs.WARNING_CARD))
    if notice:
        body.append(notice.element())
    if view.status is not Status.ACTIVE:
        body += state_lines(view)
    return card(body, actions=actions)
