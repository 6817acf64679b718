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
from core.domain import break_glass, sentences
from core.domain.namespaces import MAX_NAMESPACE_BYTES
from core.domain.request_form import (
    AUTOMATIC,
    CHOICES,
    COLLECTION,
    COLLECTION_MISSING,
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
        if field == RESOURCE and form.shows(COLLECTION):
            body += _collection_input(form)
            if form.collection_required and not form.collection:
                return [*body, note(f"{COLLECTION_MISSING} Then press Update choices.")]
        if form.step(field).chosen is None and field != DURATION:
            return [*body, note(f"{MISSING[field]} Then press Update choices.")]
    return body


def _collection_input(form: RequestForm) -> list[Element]:
    """A collection of the chosen database, named (collections are never discovered); why
    the one named cannot be requested, beside it."""
    element = text_input(
        COLLECTION,
        label="Collection" + (" (required)" if form.collection_required else ""),
        value=form.collection,
        placeholder="Collection name",
        max_length=MAX_NAMESPACE_BYTES,
    )
    body = [element, line(Run(form.collection_hint(), subtle=True), spacing="Small")]
    note_ = form.collection_note
    return [*body, problem(note_)] if note_ else body


def _approvers(form: RequestForm) -> list[Element]:
    if form.automatic:
        return [note(AUTOMATIC, subtle=False)]
    if form.break_glass_reason:
        return [note(break_glass.WARNING, subtle=False, color="attention")]
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
            label=(
                break_glass.reason_label(form.break_glass_reason)
                if form.break_glass_reason
                else "Justification" + (" (required)" if form.justification_required else "")
            ),
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


BREAK_GLASS_SENT = (
    "Break-glass: you approved it yourself. The access is being granted and its details "
    "follow here; everybody concerned is told and the integration owners review it."
)


def submitted_card(request_id: str, asked: Asked, *, break_glass: bool = False) -> Element:
    """What the form becomes once submitted (the receipt, with Cancel, follows as a message)."""
    return card(
        [
            heading("Request sent"),
            line("Request ", Run(request_id, monospace=True), ": ", *what(asked)),
            note(
                BREAK_GLASS_SENT
                if break_glass
                else "The approvers have been asked. Its status and a Cancel button follow here."
            ),
        ]
    )
