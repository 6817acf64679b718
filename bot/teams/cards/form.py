"""The request form: integration → resource → permission → duration → justification.

Adaptive Cards cannot change one input's choices when another changes, so the form is
re-rendered by the bot: "Update choices" (``form.refresh``) sends the inputs so far and gets the
form back narrowed to what they allow, with who would approve; "Submit request"
(``form.submit``) sends them to be submitted. Errors come back next to their input, with every
input kept. The resource input also offers typeahead over every discovered resource
(``choices.data``: a ``Data.Query`` answered by the ``application/search`` invoke).
"""

from __future__ import annotations

from bot.teams.cards import verbs
from bot.teams.cards.common import approver_rows, what
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
from core.domain import sentences
from core.domain.request_form import (
    AUTOMATIC,
    CHOICES,
    DURATION,
    INTEGRATION,
    JUSTIFICATION,
    MISSING,
    PERMISSION,
    RESOURCE,
    RequestForm,
)
from core.domain.sentences import Asked
from core.use_cases.requests import MAX_JUSTIFICATION


def resource_search_dataset(integration: str) -> str:
    return f"{verbs.RESOURCE_DATASET}:{integration}"


_CHOICES = {
    INTEGRATION: ("Integration", "Choose an integration"),
    RESOURCE: ("Resource", "Search for a cluster or database"),
    PERMISSION: ("Permission", "Choose a permission"),
    DURATION: ("Duration", "For how long"),
}


def _field(form: RequestForm, key: str, element: Element) -> list[Element]:
    error = form.errors.get(key)
    return [element, problem(error)] if error else [element]


def _choice_input(form: RequestForm, field: str) -> list[Element]:
    step = form.step(field)
    label, placeholder = _CHOICES[field]
    searched = field == RESOURCE and form.integration.chosen is not None
    element = choice_set(
        field,
        label=label,
        choices=[(c.title, c.value) for c in step.offered],
        value=form.value(field) or None,
        placeholder=placeholder,
        filtered=searched,
        dataset=resource_search_dataset(form.value(INTEGRATION)) if searched else None,
    )
    return _field(form, field, element)


def _inputs(form: RequestForm) -> list[Element]:
    """The inputs the form shows now, and what to do next (Adaptive Cards cannot narrow one
    input when another changes: Update choices asks core again)."""
    body: list[Element] = []
    for field in CHOICES:
        if not form.shows(field):
            break
        body += _choice_input(form, field)
        if form.step(field).chosen is None and field != DURATION:
            return [*body, note(f"{MISSING[field]} Then press Update choices.")]
    return body


def _approvers(form: RequestForm) -> list[Element]:
    if form.automatic:
        return [note(AUTOMATIC, subtle=False)]
    if not form.approvers:
        return []
    heading = sentences.approvers_heading(form.approvals_required, preview=True)
    return approver_rows(heading, ((a.name, a.reason) for a in form.approvers))


def request_form_card(form: RequestForm) -> Element:
    body: list[Element] = [heading("Request access"), *_inputs(form)]
    body += _field(
        form,
        JUSTIFICATION,
        text_input(
            JUSTIFICATION,
            label="Justification" + (" (required)" if form.justification_required else ""),
            value=form.justification,
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


def submitted_card(request_id: str, asked: Asked) -> Element:
    """What the form becomes once submitted (the receipt, with Cancel, follows as a message)."""
    return card(
        [
            heading("Request sent"),
            line("Request ", Run(request_id, monospace=True), ": ", *what(asked)),
            note("The approvers have been asked. Its status and a Cancel button follow here."),
        ]
    )
