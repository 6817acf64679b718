"""Modals: the request form, the approver's reason, the extension, the one password reveal, and
plain notices (loading, done, refused)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.slack import ids, text
from bot.slack.blocks.common import (
    Block,
    capped,
    context,
    inert,
    justification,
    option,
    request_fields,
    section,
    what,
    when,
)
from bot.slack.forms import (
    DURATION,
    INTEGRATION,
    JUSTIFICATION,
    PERMISSION,
    RESOURCE,
    RequestForm,
    duration_value,
    resource_value,
)
from core.domain.durations import describe_duration
from core.domain.views import RequestView
from core.storage.models import Resource
from core.use_cases.requests import MAX_JUSTIFICATION

View = dict[str, Any]
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


def _select(
    *,
    block_id: str,
    action_id: str,
    label: str,
    options: list[Block],
    initial: Block | None,
    placeholder: str,
    dispatch: bool = True,
    hint: str | None = None,
) -> Block:
    element: Block = {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": text.plain_text(placeholder, limit=text.MAX_PLACEHOLDER),
        "options": options[: text.MAX_OPTIONS],
    }
    if initial is not None:
        element["initial_option"] = initial
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": text.plain_text(label, limit=text.MAX_INPUT_LABEL),
        "element": element,
        "dispatch_action": dispatch,
    }
    if hint:
        block["hint"] = text.plain_text(hint, limit=text.MAX_INPUT_HINT)
    return block


def _text_input(
    *, block_id: str, action_id: str, label: str, optional: bool, initial: str = "", hint: str = ""
) -> Block:
    element: Block = {
        "type": "plain_text_input",
        "action_id": action_id,
        "multiline": True,
        "max_length": MAX_JUSTIFICATION,
    }
    if initial:
        element["initial_value"] = initial[:MAX_JUSTIFICATION]
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": text.plain_text(label, limit=text.MAX_INPUT_LABEL),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = text.plain_text(hint, limit=text.MAX_INPUT_HINT)
    return block


def resource_option(resource: Resource) -> Block:
    return option(resource.name, resource_value(resource.type, resource.name))


def resource_options(found: list[Resource]) -> dict[str, list[Block]]:
    """``options`` for an external_select; grouped by type (``option_groups``) when mixed."""
    kinds = list(dict.fromkeys(r.type for r in found))
    if len(kinds) <= 1:
        return {"options": [resource_option(r) for r in found][: text.MAX_OPTIONS]}
    return {
        "option_groups": [
            {
                "label": text.plain_text(
                    f"{kind.capitalize()}s", limit=text.MAX_OPTION_GROUP_LABEL
                ),
                "options": [resource_option(r) for r in found if r.type == kind][
                    : text.MAX_OPTIONS
                ],
            }
            for kind in kinds
        ]
    }


def _duration_option(duration: timedelta) -> Block:
    return option(describe_duration(duration), duration_value(duration))


def request_modal(form: RequestForm) -> View:
    """The request form with what is chosen so far and who would approve it."""
    chosen = form.choices
    if not form.integrations:
        return notice(
            "Request access",
            "No access flow lets you request access to anything yet. Ask an administrator.",
        )
    options = [option(name, name) for name in form.integrations]
    blocks: list[Block] = [
        _select(
            block_id=chosen.block_id(INTEGRATION),
            action_id=ids.INTEGRATION_SELECT,
            label="Integration",
            options=options,
            initial=option(chosen.integration, chosen.integration) if chosen.integration else None,
            placeholder="Choose an integration",
        )
    ]
    if chosen.integration:
        element: Block = {
            "type": "external_select",
            "action_id": ids.RESOURCE_SELECT,
            "placeholder": text.plain_text("Search resources", limit=text.MAX_PLACEHOLDER),
            "min_query_length": 0,
        }
        if form.resource is not None:
            element["initial_option"] = resource_option(form.resource)
        blocks.append(
            {
                "type": "input",
                "block_id": chosen.block_id(RESOURCE),
                "label": text.plain_text("Resource", limit=text.MAX_INPUT_LABEL),
                "element": element,
                "dispatch_action": True,
                "hint": text.plain_text(
                    "Clusters, databases and projects Gatepass has discovered.",
                    limit=text.MAX_INPUT_HINT,
                ),
            }
        )
    if form.resource is not None and not form.permissions:
        blocks.append(section(":warning: No access flow lets you request a permission on it."))
    elif form.resource is not None:
        blocks.append(
            _select(
                block_id=chosen.block_id(PERMISSION),
                action_id=ids.PERMISSION_SELECT,
                label="Permission",
                options=[option(p, p) for p in form.permissions],
                initial=option(chosen.permission, chosen.permission) if chosen.permission else None,
                placeholder="Choose a permission",
            )
        )
    if chosen.permission and form.durations:
        blocks.append(
            _select(
                block_id=chosen.block_id(DURATION),
                action_id=ids.DURATION_SELECT,
                label="Duration",
                options=[_duration_option(d) for d in form.durations],
                initial=_duration_option(chosen.duration) if chosen.duration else None,
                placeholder="For how long?",
            )
        )
    blocks.append(
        _text_input(
            block_id=JUSTIFICATION,
            action_id=ids.JUSTIFICATION_INPUT,
            label="Justification",
            optional=not form.justification_required,
            initial=chosen.justification,
            hint="Why you need this access; the approvers read it.",
        )
    )
    blocks.append(_approvers_preview(form))
    return _modal(
        title="Request access",
        callback_id=ids.REQUEST_SUBMIT,
        blocks=blocks,
        submit="Request",
        close="Cancel",
    )


def _approvers_preview(form: RequestForm) -> Block:
    if form.problem:
        return section(f":warning: {text.escape(form.problem)}", block_id="approvers")
    if form.automatic:
        return section(":zap: Approved automatically by its access flow.", block_id="approvers")
    if not form.approvers:
        return context("Choose a resource and a permission to see who will approve.")
    lines = [
        f"• {inert(a.name)} — {text.escape(a.reason, single_line=True)}" for a in form.approvers
    ]
    need = "" if form.approvals_required <= 1 else f" ({form.approvals_required} must approve)"
    return section(f"*Who will approve{need}*\n" + "\n".join(lines), block_id="approvers")


# --------------------------------------------------------------------------- approvers


def reason_modal(*, view: RequestView, outcome: str, private_metadata: str) -> View:
    deny = outcome == "deny"
    blocks: list[Block] = [
        section(f"*{inert(view.requester_name)}* asks for {what(view)}"),
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


# --------------------------------------------------------------------------- requester


def extend_modal(*, view: RequestView, durations: list[timedelta], private_metadata: str) -> View:
    if not durations:
        return notice("Extend access", "No access flow lets you extend this access.")
    blocks: list[Block] = [
        section(f"Your {what(view)} access ends at {when(view.ends_at)}."),
        _select(
            block_id=DURATION,
            action_id=ids.DURATION_SELECT,
            label="Extend by",
            options=[_duration_option(d) for d in durations],
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
