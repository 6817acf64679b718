"""The ``Action.Execute`` verbs Gatepass cards carry, and the input ids of its forms."""

from __future__ import annotations

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

# Keys of an action's data (inputs are merged into it by Teams).
REQUEST = "request"
CARD = "card"
REASON = "reason"
INTEGRATION = "integration"
RESOURCE = "resource"
PERMISSION = "permission"
DURATION = "duration"
JUSTIFICATION = "justification"
FORM_FIELDS = (INTEGRATION, RESOURCE, PERMISSION, DURATION, JUSTIFICATION)

# Which requester card an action came from, so the answer re-renders the same one.
READY_CARD = "ready"
WARNING_CARD = "warning"

RESOURCE_DATASET = "resources"
