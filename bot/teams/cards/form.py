"""The request form: integration → resource → permission → duration → justification.

Adaptive Cards cannot change one input's choices when another changes, so the form is
re-rendered by the bot: "Update choices" (``form.refresh``) sends the inputs so far and gets the
form back narrowed to what they allow, with who would approve; "Submit request"
(``form.submit``) sends them to be submitted. Errors come back next to their input, with every
input kept. The resource input also offers typeahead over every discovered resource
(``choices.data``: a ``Data.Query`` answered by the ``application/search`` invoke).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.teams.cards import verbs
from bot.teams.cards.common import what
from bot.teams.cards.elements import (
    Element,
    Run,
    card,
    choice_set,
    execute,
    heading,
    line,
    note,
    problem,
    text_input,
)
from core.domain.durations import describe_duration, format_duration
from core.domain.views import RequestView
from core.use_cases.requests import MAX_JUSTIFICATION


@dataclass(frozen=True)
class Choices:
    """What is filled in. ``resource`` is ``type:name`` (the type never holds ``:``)."""

    integration: str | None = None
    resource: str | None = None
    permission: str | None = None
    duration: timedelta | None = None
    justification: str = ""


@dataclass(frozen=True)
class ApproverPreview:
    name: str
    reason: str


@dataclass(frozen=True)
class RequestForm:
    """What core offers after ``choices`` (see ``bot.teams.form.build_form``)."""

    choices: Choices
    integrations: tuple[str, ...] = ()
    resources: tuple[tuple[str, str], ...] = ()  # (title, value)
    permissions: tuple[str, ...] = ()
    durations: tuple[timedelta, ...] = ()
    justification_required: bool = False
    approvers: tuple[ApproverPreview, ...] = ()
    automatic: bool = False
    approvals_required: int = 1
    problem: str | None = None
    errors: Mapping[str, str] = field(default_factory=dict)


def resource_value(resource_type: str, name: str) -> str:
    return f"{resource_type}:{name}"


def resource_search_dataset(integration: str) -> str:
    return f"{verbs.RESOURCE_DATASET}:{integration}"


def _field(form: RequestForm, key: str, element: Element) -> list[Element]:
    error = form.errors.get(key)
    return [element, problem(error)] if error else [element]


def _approvers(form: RequestForm) -> list[Element]:
    if form.automatic:
        return [note("This access is approved automatically by its access flow.", subtle=False)]
    if not form.approvers:
        return []
    label = "Who will decide" + (
        f" ({form.approvals_required} must approve)" if form.approvals_required > 1 else ""
    )
    return [
        line(Run(label, bold=True), spacing="Medium"),
        *(
            line("• ", Run(a.name, bold=True), " — ", a.reason, spacing="None")
            for a in form.approvers
        ),
    ]


def _inputs(form: RequestForm) -> list[Element]:
    chosen = form.choices
    body = _field(
        form,
        verbs.INTEGRATION,
        choice_set(
            verbs.INTEGRATION,
            label="Integration",
            choices=[(name, name) for name in form.integrations],
            value=chosen.integration,
            placeholder="Choose an integration",
        ),
    )
    if not chosen.integration:
        return [*body, note("Choose an integration, then press Update choices.")]
    body += _field(
        form,
        verbs.RESOURCE,
        choice_set(
            verbs.RESOURCE,
            label="Resource",
            choices=form.resources,
            value=chosen.resource,
            placeholder="Search for a cluster or database",
            filtered=True,
            dataset=resource_search_dataset(chosen.integration),
        ),
    )
    if not chosen.resource:
        return [*body, note("Choose a resource, then press Update choices.")]
    body += _field(
        form,
        verbs.PERMISSION,
        choice_set(
            verbs.PERMISSION,
            label="Permission",
            choices=[(p, p) for p in form.permissions],
            value=chosen.permission,
            placeholder="Choose a permission",
        ),
    )
    if not chosen.permission:
        return [*body, note("Choose a permission, then press Update choices.")]
    body += _field(
        form,
        verbs.DURATION,
        choice_set(
            verbs.DURATION,
            label="Duration",
            choices=[(describe_duration(d), format_duration(d)) for d in form.durations],
            value=format_duration(chosen.duration) if chosen.duration else None,
            placeholder="For how long",
        ),
    )
    return body


def request_form_card(form: RequestForm) -> Element:
    body: list[Element] = [heading("Request access"), *_inputs(form)]
    body += _field(
        form,
        verbs.JUSTIFICATION,
        text_input(
            verbs.JUSTIFICATION,
            label="Justification" + (" (required)" if form.justification_required else ""),
            value=form.choices.justification,
            placeholder="What you need the access for",
            multiline=True,
            max_length=MAX_JUSTIFICATION,
        ),
    )
    body += _approvers(form)
    if form.problem:
        body.append(problem(form.problem))
    actions = [
        execute("Update choices", verb=verbs.FORM_REFRESH),
        execute("Submit request", verb=verbs.FORM_SUBMIT, style="positive"),
    ]
    return card(body, actions=actions)


def submitted_card(view: RequestView) -> Element:
    """What the form becomes once submitted (the receipt, with Cancel, follows as a message)."""
    return card(
        [
            heading("Request sent"),
            line("Request ", Run(view.id, monospace=True), ": ", *what(view)),
            note("The approvers have been asked. Its status and a Cancel button follow here."),
        ]
    )
