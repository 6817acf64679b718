"""The ``Action.Execute`` verbs Gatepass cards carry, and the input ids of its forms."""

from __future__ import annotations

from core.domain import request_form

FORM_REFRESH = "form.refresh"
FORM_SUBMIT = "form.submit"
APPROVAL_REFRESH = "approval.refresh"
APPROVE = "approval.approve"
DENY = "approval.deny"
CANCEL = "request.cancel"
REVEAL = "password.reveal"
HIDE = "password.hide"
DONE = "access.done"
EXTEND = "access.extend"
BREAK_GLASS_ACKNOWLEDGE = "break_glass.acknowledge"
BREAK_GLASS_FLAG = "break_glass.flag"
REVOKE = "access.revoke"  # an integration owner's "Revoke now" (with a required reason)

# Keys of an action's data (inputs are merged into it by Teams).
REQUEST = "request"
CARD = "card"
REASON = "reason"
INTEGRATION = request_form.INTEGRATION  # the form's inputs carry core's field names
RESOURCE = request_form.RESOURCE
PERMISSION = request_form.PERMISSION
DURATION = request_form.DURATION
JUSTIFICATION = request_form.JUSTIFICATION
FORM_FIELDS = request_form.FIELDS

# Which requester card an action came from, so the answer re-renders the same one.
READY_CARD = "ready"
WARNING_CARD = "warning"

RESOURCE_DATASET = "resources"

# The copy of an approval ask posted to a flow's approval channel.
CHANNEL_REFRESH = "channel.refresh"
CHANNEL_APPROVE = "channel.approve"
CHANNEL_DENY = "channel.deny"
