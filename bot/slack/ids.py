"""Every Slack identifier Gatepass registers or matches on, in one place.

The listeners match on these; the Block Kit builders put them into blocks; ``manifest.yml`` repeats
the command and the shortcut callback id (a test checks that the two agree). Renaming one is a
breaking change for messages already posted: their buttons carry the old id.
"""

from __future__ import annotations

from typing import Final

# --------------------------------------------------------------------------- entry points

COMMAND: Final = "/gatepass"
"""The default slash command; ``slack.command`` in the config file may rename it."""

REQUEST_ACCESS: Final = "request_access"
"""Callback id of the global shortcut "Request access"."""

EVENTS_PATH: Final = "/slack/events"
"""Where Slack posts commands, interactions, options and events (one URL for all of them)."""

# --------------------------------------------------------------------------- views (callback_id)

REQUEST_SUBMIT: Final = "request_submit"
"""The request modal: integration, resource, permission, duration, justification."""

DENY_REASON: Final = "deny_reason"
"""Modal asking an approver why they deny."""

APPROVE_REASON: Final = "approve_reason"
"""Modal asking an approver for a reason when the access flow requires one."""

REVEAL_PASSWORD_VIEW: Final = "reveal_password_view"  # noqa: S105 - an id, not a password
"""The modal that shows a generated password once (no submit; closing it discards it)."""

EXTEND_SUBMIT: Final = "extend_submit"
"""Modal asking the requester for a new duration and a justification to extend a grant."""

REVOKE_REASON: Final = "revoke_reason"
"""Modal asking an integration owner why they revoke an active grant (the reason is required)."""

NOTICE_VIEW: Final = "notice_view"
"""A modal that only says something (loading, done, refused); it has no submit."""

# --------------------------------------------------------------------------- buttons (action_id)

OPEN_REQUEST_MODAL: Final = "open_request_modal"
"""App Home "Request access" button."""

APPROVE: Final = "approve"
DENY: Final = "deny"
CANCEL_REQUEST: Final = "cancel_request"
REVEAL_PASSWORD: Final = "reveal_password"  # noqa: S105 - an id, not a password
EXTEND: Final = "extend"
DONE: Final = "done"
""""I'm done": revoke the grant now."""

REQUEST_AGAIN: Final = "request_again"
REVOKE_NOW: Final = "revoke_now"
""""Revoke now" on an integration owner's copy of an active grant."""

BREAK_GLASS_ACKNOWLEDGE: Final = "break_glass_acknowledge"
BREAK_GLASS_FLAG: Final = "break_glass_flag"
"""An integration owner's review of a break-glass use (in their review request DM)."""

# --------------------------------------------------------------------------- request modal inputs

INTEGRATION_SELECT: Final = "integration_select"
RESOURCE_SELECT: Final = "resource_select"
"""An ``external_select``: its options come from a ``block_suggestion`` request."""

COLLECTION_INPUT: Final = "collection_input"
"""A text input below a chosen database; pressing Enter in it updates the choices below."""
PERMISSION_SELECT: Final = "permission_select"
DURATION_SELECT: Final = "duration_select"
JUSTIFICATION_INPUT: Final = "justification_input"
REASON_INPUT: Final = "reason_input"
"""The text input of the deny-reason, approve-reason and revoke-reason modals."""

# --------------------------------------------------------------------------- approval channels

CHANNEL_APPROVE: Final = "channel_approve"
CHANNEL_DENY: Final = "channel_deny"
"""Approve and Deny on the copy of an approval ask posted to a flow's approval channel."""

ACTION_IDS: Final = (
    OPEN_REQUEST_MODAL,
    APPROVE,
    DENY,
    CANCEL_REQUEST,
    REVEAL_PASSWORD,
    EXTEND,
    DONE,
    REQUEST_AGAIN,
    BREAK_GLASS_ACKNOWLEDGE,
    BREAK_GLASS_FLAG,
    REVOKE_NOW,
    INTEGRATION_SELECT,
    RESOURCE_SELECT,
    PERMISSION_SELECT,
    DURATION_SELECT,
    JUSTIFICATION_INPUT,
    REASON_INPUT,
    COLLECTION_INPUT,
    CHANNEL_APPROVE,
    CHANNEL_DENY,
)
VIEW_CALLBACK_IDS: Final = (
    REQUEST_SUBMIT,
    DENY_REASON,
    APPROVE_REASON,
    REVEAL_PASSWORD_VIEW,
    EXTEND_SUBMIT,
    NOTICE_VIEW,
    REVOKE_REASON,
)

RENDERED_ONLY: Final = (JUSTIFICATION_INPUT, REASON_INPUT, REVEAL_PASSWORD_VIEW, NOTICE_VIEW)
"""Ids put into blocks but never listened to: text inputs are read from a submitted view's
state, and the reveal and notice modals have no submit button. Every other id has a listener."""
