"""Modals: the request form, the approver's reason, the extension, the one password reveal, and
plain notices (loading, done, refused)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from bot.slack import form as form_state
from bot.slack import ids, text
from bot.slack.blocks.common import (
    Block,
    approvers_list,
    capped,
    context,
    inert,
    justification,
    option,
    phrase,
    request_fields,
    section,
    what,
)
from core.domain import break_glass, sentences
from core.domain.namespaces import MAX_NAMESPACE_BYTES
from core.domain.request_form import (
    APPROVERS_LATER,
    AUTOMATIC,
    CHOICES,
    COLLECTION,
    DURATION,
    INTEGRATION,
    JUSTIFICATION,
    NOTHING_TO_REQUEST,
    PERMISSION,
    RESOURCE,
    Choice,
    FormInput,
    RequestForm,
    duration_choice,
)
from core.domain.views import RequestView
from core.use_cases.requests import MAX_JUSTIFICATION

View = dict[str, Any]
TITLE = "Request access"
REASON_BLOCK = "reason"


def _modal(
    *,
    title: str,
    callback_id: str,
    blocks: list[Block],
    submit: str | None = None,
    close: str = "Close",
    private_metadata: str = "",
) -> View:
    view: View = {
        "type": "modal",
        "callback_id": callback_id,
        "title": text.plain_text(title, limit=text.MAX_MODAL_TITLE),
        "close": text.plain_text(close, limit=text.MAX_MODAL_BUTTON),
        "blocks": capped(blocks, text.MAX_BLOCKS_PER_VIEW),
    }
    if submit:
        view["submit"] = text.plain_text(submit, limit=text.MAX_MODAL_BUTTON)
    if private_metadata:
        view["private_metadata"] = private_metadata[: text.MAX_PRIVATE_METADATA]
    return view


def notice(title: str, message: str) -> View:
    """A modal that only says ``message`` (mrkdwn; user-supplied parts already escaped)."""
    return _modal(title=title, callback_id=ids.NOTICE_VIEW, blocks=[section(message)])


def loading(title: str) -> View:
    return notice(title, ":hourglass_flowing_sand: One moment…")


def _input(block_id: str, label: str, element: Block, *, hint: str = "", **extra: bool) -> Block:
    """An input block around ``element`` (``extra``: dispatch_action, optional)."""
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": text.plain_text(label, limit=text.MAX_INPUT_LABEL),
        "element": element,
        **extra,
    }
    if hint:
        block["hint"] = text.plain_text(hint, limit=text.MAX_INPUT_HINT)
    return block


def _select(
    *,
    block_id: str,
    action_id: str,
    label: str,
    options: list[Block],
    initial: Block | None,
    placeholder: str,
    dispatch: bool = True,
) -> Block:
    element: Block = {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": text.plain_text(placeholder, limit=text.MAX_PLACEHOLDER),
        "options": options[: text.MAX_OPTIONS],
    }
    if initial is not None:
        element["initial_option"] = initial
    return _input(block_id, label, element, dispatch_action=dispatch)


def _text_input(
    *,
    block_id: str,
    action_id: str,
    label: str,
    optional: bool,
    initial: str = "",
    hint: str = "",
    min_length: int = 0,
) -> Block:
    element: Block = {
        "type": "plain_text_input",
        "action_id": action_id,
        "multiline": True,
        "max_length": MAX_JUSTIFICATION,
    }
    if min_length:
        element["min_length"] = min_length
    if initial:
        element["initial_value"] = initial[:MAX_JUSTIFICATION]
    return _input(block_id, label, element, hint=hint, optional=optional)


def _option(choice: Choice) -> Block:
    return option(choice.title, choice.value)


def resource_options(found: Sequence[Choice]) -> dict[str, list[Block]]:
    """``options`` for an external_select; grouped by type (``option_groups``) when mixed."""
    kinds = list(dict.fromkeys(c.group for c in found))
    if len(kinds) <= 1:
        return {"options": [_option(c) for c in found][: text.MAX_OPTIONS]}
    return {
        "option_groups": [
            {
                "label": text.plain_text(
                    f"{kind.capitalize()}s", limit=text.MAX_OPTION_GROUP_LABEL
                ),
                "options": [_option(c) for c in found if c.group == kind][: text.MAX_OPTIONS],
            }
            for kind in kinds
        ]
    }


def _choice_input(
    form: RequestForm, field: str, *, label: str, placeholder: str, filled: FormInput
) -> Block:
    step = form.step(field)
    return _select(
        block_id=form_state.block_id(field, filled),
        action_id=form_state.ACTION_OF[field],
        label=label,
        options=[_option(c) for c in step.offered],
        initial=_option(step.chosen) if step.chosen else None,
        placeholder=placeholder,
    )


def _resource_input(form: RequestForm, filled: FormInput) -> Block:
    """An external_select: its options come from the typeahead (``resource_options``)."""
    element: Block = {
        "type": "external_select",
        "action_id": ids.RESOURCE_SELECT,
        "placeholder": text.plain_text("Search resources", limit=text.MAX_PLACEHOLDER),
        "min_query_length": 0,
    }
    if form.resource.chosen is not None:
        element["initial_option"] = _option(form.resource.chosen)
    return _input(
        form_state.block_id(RESOURCE, filled),
        "Resource",
        element,
        hint="Clusters, databases and projects Gatepass has discovered.",
        dispatch_action=True,
    )


def _collection_input(form: RequestForm, filled: FormInput) -> list[Block]:
    """A text input naming a collection of the chosen database (Enter updates the choices
    below it), and why the collection named cannot be requested."""
    element: Block = {
        "type": "plain_text_input",
        "action_id": ids.COLLECTION_INPUT,
        "max_length": MAX_NAMESPACE_BYTES,
        "placeholder": text.plain_text("Collection name", limit=text.MAX_PLACEHOLDER),
        "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]},
    }
    if form.collection:
        element["initial_value"] = form.collection[:MAX_NAMESPACE_BYTES]
    block = _input(
        form_state.block_id(COLLECTION, filled),
        "Collection",
        element,
        hint=form.collection_hint() + " Press Enter to update the choices.",
        optional=not form.collection_required,
        dispatch_action=True,
    )
    note = form.collection_note
    return [block, context(f":warning: {text.escape(note)}")] if note else [block]


_SELECTS = {
    INTEGRATION: ("Integration", "Choose an integration"),
    PERMISSION: ("Permission", "Choose a permission"),
    DURATION: ("Duration", "For how long?"),
}


def _choices(form: RequestForm) -> list[Block]:
    """The inputs the form shows now, each appearing once the one above it is chosen."""
    filled = form.chosen()
    blocks: list[Block] = []
    for field in CHOICES:
        if not form.shows(field):
            continue
        if field == RESOURCE:
            blocks.append(_resource_input(form, filled))
            if form.shows(COLLECTION):
                blocks += _collection_input(form, filled)
            continue
        label, placeholder = _SELECTS[field]
        blocks.append(
            _choice_input(form, field, label=label, placeholder=placeholder, filled=filled)
        )
    return blocks


def request_modal(form: RequestForm) -> View:
    """The request form with what is chosen so far and who would approve it."""
    if not form.integration.offered:
        return notice(TITLE, f":warning: {text.escape(form.problem or NOTHING_TO_REQUEST)}")
    justification_input = _text_input(
        block_id=JUSTIFICATION,
        action_id=ids.JUSTIFICATION_INPUT,
        label="Justification",
        optional=not form.justification_required,
        initial=form.justification,
        hint="Why you need this access; the approvers read it.",
    )
    if form.break_glass_reason:
        justification_input = _text_input(
            block_id=JUSTIFICATION,
            action_id=ids.JUSTIFICATION_INPUT,
            label="Reason for breaking the glass",
            optional=False,
            initial=form.justification,
            hint=break_glass.reason_hint(form.break_glass_reason),
            min_length=form.break_glass_reason,
        )
    return _modal(
        title=TITLE,
        callback_id=ids.REQUEST_SUBMIT,
        blocks=[*_choices(form), justification_input, _approvers_preview(form)],
        submit="Request",
        close="Cancel",
    )


def _approvers_preview(form: RequestForm) -> Block:
    if form.problem:
        return section(f":warning: {text.escape(form.problem)}", block_id="approvers")
    if form.automatic:
        return section(f":zap: {AUTOMATIC}", block_id="approvers")
    if form.break_glass_reason:
        return section(f":rotating_light: *{break_glass.WARNING}*", block_id="approvers")
    if not form.approvers:
        return context(APPROVERS_LATER)
    heading = sentences.approvers_heading(form.approvals_required, preview=True)
    listed = approvers_list(heading, ((a.name, a.reason) for a in form.approvers))
    return section(listed, block_id="approvers")


# --------------------------------------------------------------------------- approvers


def reason_modal(*, view: RequestView, outcome: str, private_metadata: str) -> View:
    deny = outcome == "deny"
    blocks: list[Block] = [
        section(phrase(sentences.asks_for(view))),
        request_fields(view),
        justification(view),
        _text_input(
            block_id=REASON_BLOCK,
            action_id=ids.REASON_INPUT,
            label="Why do you deny it?" if deny else "Why do you approve it?",
            optional=False,
            hint="The requester sees it.",
        ),
    ]
    return _modal(
        title="Deny request" if deny else "Approve request",
        callback_id=ids.DENY_REASON if deny else ids.APPROVE_REASON,
        blocks=blocks,
        submit="Deny" if deny else "Approve",
        close="Back",
        private_metadata=private_metadata,
    )


def revoke_modal(*, view: RequestView, private_metadata: str) -> View:
    """An integration owner's "Revoke now": why (required; the requester is told)."""
    blocks: list[Block] = [
        section(f"Remove the {what(view)} access of *{inert(view.requester_name)}* now?"),
        request_fields(view, requester=True),
        _text_input(
            block_id=REASON_BLOCK,
            action_id=ids.REASON_INPUT,
            label="Why do you revoke it?",
            optional=False,
            hint="The requester is told who revoked their access and why.",
        ),
    ]
    return _modal(
        title="Revoke access",
        callback_id=ids.REVOKE_REASON,
        blocks=blocks,
        submit="Revoke now",
        close="Back",
        private_metadata=private_metadata,
    )


# --------------------------------------------------------------------------- requester


def extend_modal(*, view: RequestView, durations: list[timedelta], private_metadata: str) -> View:
    if not durations:
        return notice("Extend access", "No access flow lets you extend this access.")
    blocks: list[Block] = [
        section(phrase(sentences.ends_soon(view))),
        _select(
            block_id=DURATION,
            action_id=ids.DURATION_SELECT,
            label="Extend by",
            options=[_option(duration_choice(d)) for d in durations],
            initial=None,
            placeholder="For how long?",
            dispatch=False,
        ),
        _text_input(
            block_id=JUSTIFICATION,
            action_id=ids.JUSTIFICATION_INPUT,
            label="Justification",
            optional=True,
            hint="The approvers read it. Extending asks for a new approval.",
        ),
    ]
    return _modal(
        title="Extend access",
        callback_id=ids.EXTEND_SUBMIT,
        blocks=blocks,
        submit="Ask to extend",
        close="Cancel",
        private_metadata=private_metadata,
    )


def reveal_modal(*, view: RequestView, password: str) -> View:
    """The only place a password is ever shown: literal text, in a modal nobody else sees."""
    secret_block: Block = {
        "type": "rich_text",
        "block_id": "password",
        "elements": [
            {
                "type": "rich_text_preformatted",
                "elements": [{"type": "text", "text": password}],
            }
        ],
    }
    blocks = [
        section(f"Password of *{inert(view.username or 'your account')}* for {what(view)}:"),
        secret_block,
        context(
            "Copy it now: Gatepass has erased it and cannot show it again. "
            "Closing this window discards it."
        ),
    ]
    return _modal(title="Your password", callback_id=ids.REVEAL_PASSWORD_VIEW, blocks=blocks)
