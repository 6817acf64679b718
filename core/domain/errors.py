"""Every error a use case can raise, in one place.

Each carries a message written for the person who acted; the chat edges and the CLI show
``str(error)`` as it is (after escaping) and never need to know more than the class.
"""

from __future__ import annotations


class GatepassError(Exception):
    """Base of the errors a person can cause. Nothing was changed when one is raised."""


class NotInDirectory(GatepassError):
    def __init__(self, email: str) -> None:
        super().__init__(
            f"{email} is not in Gatepass's directory, so you cannot request or approve access. "
            "Ask an administrator to add you."
        )
        self.email = email


class NoChatEmail(NotInDirectory):
    """The chat platform did not say which email a user has (a bot, a guest without one, a
    missing scope or installation): Gatepass cannot tell who they are, so they are treated as not
    in the directory. ``fix`` says what an administrator should check on that platform."""

    def __init__(self, *, platform: str, user_id: str, fix: str) -> None:
        GatepassError.__init__(
            self,
            f"Gatepass cannot see the email address of your {platform} account, so it cannot "
            f"tell who you are. Ask an administrator to check {fix}.",
        )
        self.email = ""
        self.platform = platform
        self.user_id = user_id


class InvalidRequest(GatepassError):
    """The request's fields are wrong. ``field`` names the input to show the message beside."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnknownIntegration(InvalidRequest):
    def __init__(self, name: str) -> None:
        super().__init__(f"There is no integration named {name!r}.", field="integration")


class UnknownResource(InvalidRequest):
    def __init__(self, key: str, integration: str) -> None:
        super().__init__(
            f"{key} is not a known resource of {integration} (run a sync if it is new).",
            field="resource",
        )


class NoMatchingFlow(InvalidRequest):
    """No access flow lets this person request this permission on this resource."""


class DurationTooLong(InvalidRequest):
    pass


class JustificationRequired(InvalidRequest):
    def __init__(self) -> None:
        super().__init__("A justification is required for this access.", field="justification")


class NoApprovers(GatepassError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)


class RequestNotFound(GatepassError):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"There is no request {request_id}.")
        self.request_id = request_id


class NotAllowed(GatepassError):
    """The actor may not do this to this request."""


class NotAParty(NotAllowed):
    """The viewer is none of the request's parties (requester, approvers, integration owners),
    or there is no such request. Both are told exactly the same, so the refusal says nothing
    about the request, not even whether it exists."""

    def __init__(self) -> None:
        super().__init__(
            "That is not a request you made, approve or own, so Gatepass cannot show it to you "
            "or act on it."
        )


class NotTheRequester(NotAllowed):
    """A party of the request who is not its requester pressed one of the requester's buttons:
    access details, the password and the requester's actions are for the requester alone."""

    def __init__(self) -> None:
        super().__init__("Only the person who asked for this access can do that.")


class NotAnApprover(NotAllowed):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"You are not an approver of request {request_id}.")


class SelfApproval(NotAllowed):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"You cannot decide on your own request {request_id}.")


class ApprovalReasonRequired(InvalidRequest):
    def __init__(self) -> None:
        super().__init__("This access flow requires a reason with every approval.", field="reason")


class DenyReasonRequired(InvalidRequest):
    def __init__(self) -> None:
        super().__init__("Say why you deny the request.", field="reason")


# What a late clicker is told, whatever happened to the request after its decision.
_DECISION_WORDS = {
    "approved": "approved",
    "granting": "approved",
    "active": "approved",
    "expired": "approved",
    "revoked": "approved",
    "failed": "approved",
    "denied": "denied",
    "cancelled": "cancelled",
    "timed_out": "closed: nobody decided in time",
}


class AlreadyDecided(GatepassError):
    """Someone decided first (or this approver already did). ``by`` and ``status`` say how."""

    def __init__(self, request_id: str, *, status: str, by: str | None) -> None:
        who = f" by {by}" if by else ""
        decision = _DECISION_WORDS.get(status, status.replace("_", " "))
        super().__init__(f"Request {request_id} was already {decision}{who}.")
        self.request_id = request_id
        self.status = status
        self.by = by


class WrongStatus(GatepassError):
    def __init__(self, request_id: str, *, status: str, action: str) -> None:
        super().__init__(
            f"Request {request_id} is {status.replace('_', ' ')}; it cannot be {action} now."
        )
        self.status = status


class NothingToReveal(GatepassError):
    def __init__(self) -> None:
        super().__init__(
            "There is no password waiting for you: it was already shown once, or the access "
            "has ended."
        )


class StaleStatus(Exception):
    """Internal: a compare-and-set found the request in another status than expected."""

    def __init__(self, request_id: str, *, expected: str, current: str | None) -> None:
        super().__init__(f"request {request_id} is {current}, not {expected}")
        self.request_id = request_id
        self.expected = expected
        self.current = current


class NotDiscovered(InvalidRequest):
    """An administrator asked about a resource Gatepass has not discovered (yet)."""

    def __init__(self, key: str, integration: str, *, synced: bool) -> None:
        if synced:
            message = (
                f"{key} is not among the resources discovered in {integration}: "
                "run `gatepass sync` first if it is new (and check its type and name)."
            )
        else:
            message = (
                f"{integration} has no discovered resources yet, so {key} is unknown: "
                "run `gatepass sync` first."
            )
        super().__init__(message, field="resource")
