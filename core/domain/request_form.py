"""The request form, the same on every platform: integration → resource → permission →
duration → justification, the choices offered at each step, what is chosen, who would approve,
and the words for what is missing or not allowed.

``core.use_cases.request_form`` fills it in from the config and the database; each chat edge
only reads its platform's input into a :class:`FormInput` and encodes the :class:`RequestForm`
it gets back (a Block Kit modal, an Adaptive Card). Nothing here reads or stores anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta

from core.domain import namespaces
from core.domain.durations import describe_duration, format_duration, parse_duration
from core.domain.permissions import COLLECTION_ROLES

INTEGRATION, RESOURCE, PERMISSION, DURATION, JUSTIFICATION = (
    "integration",
    "resource",
    "permission",
    "duration",
    "justification",
)
COLLECTION = namespaces.COLLECTION
"""A typed input below a chosen database: the collection of it to request (collections are
never discovered, so they are named, not chosen)."""
CHOICES = (INTEGRATION, RESOURCE, PERMISSION, DURATION)
FIELDS = (INTEGRATION, RESOURCE, COLLECTION, PERMISSION, DURATION, JUSTIFICATION)

MISSING = {
    INTEGRATION: "Choose an integration.",
    RESOURCE: "Choose a resource.",
    PERMISSION: "Choose a permission.",
    DURATION: "Choose how long you need the access.",
}
NOT_OFFERED = {
    INTEGRATION: "Choose one of the offered integrations.",
    RESOURCE: "Choose one of the offered resources.",
    PERMISSION: "Choose one of the offered permissions.",
    DURATION: "Choose one of the offered durations.",
}
NOTHING_TO_REQUEST = "No access flow lets you request access to anything yet. Ask an administrator."
AUTOMATIC = "Approved automatically by its access flow."
COLLECTION_MISSING = "Name the collection: an access flow lets you request only collections here."
COLLECTION_DATABASE = (
    "A collection can be named only in a database Gatepass has discovered and an access flow "
    "offers: choose one of the offered resources."
)
COLLECTION_ROLES_ONLY = (
    f"Only {' or '.join(COLLECTION_ROLES)} can be granted on a collection; "
    "choose one of the offered permissions."
)
APPROVERS_LATER = "Choose a resource and a permission to see who will approve."

MAX_CHOICE_VALUE = 150
"""Every choice value fits in 150 characters (the shortest limit of the chat platforms: Slack's
option values), so the same value is offered, sent back and resolved on every platform."""
_DIGEST = "#"
_DIGEST_LENGTH = 32


def no_permission(resource_title: str) -> str:
    return f"No access flow lets you request a permission on {resource_title}."


def no_collection(resource_title: str) -> str:
    return f"No access flow lets you request a collection in {resource_title}."


def collection_not_allowed(name: str) -> str:
    return f"No access flow lets you request collection {name}."


def longest(limit: timedelta) -> str:
    return f"The longest you may request is {describe_duration(limit)}."


@dataclass(frozen=True)
class Draft:
    """A request as filled in, before it is checked."""

    integration: str
    resource_type: str
    resource_name: str
    permission: str
    duration: timedelta
    justification: str = ""


# --------------------------------------------------------------------------- choices


@dataclass(frozen=True)
class Choice:
    """One option: the stable ``value`` a platform sends back, the ``title`` people read, and
    the ``group`` it belongs to (a resource's type)."""

    value: str
    title: str
    group: str = ""


def resource_value(resource_type: str, name: str) -> str:
    """``database:analytics``; for a name too long for that, ``type#<digest>:<its start>``."""
    plain = f"{resource_type}:{name}"
    if len(plain) <= MAX_CHOICE_VALUE:
        return plain
    digest = hashlib.sha256(name.encode()).hexdigest()[:_DIGEST_LENGTH]
    head = f"{resource_type}{_DIGEST}{digest}:"
    return head + name[: max(0, MAX_CHOICE_VALUE - len(head))]


@dataclass(frozen=True)
class ResourceKey:
    """What a resource choice's value names: the type and the name (or, for a digest value,
    the name's start and the digest of the whole name)."""

    type: str
    name: str
    digest: str = ""

    def names(self, name: str) -> bool:
        if not self.digest:
            return name == self.name
        whole = hashlib.sha256(name.encode()).hexdigest()[:_DIGEST_LENGTH]
        return whole == self.digest and name.startswith(self.name)


def read_resource_value(value: str) -> ResourceKey | None:
    """The key a value names; None for anything :func:`resource_value` cannot have made."""
    kind, colon, name = value.partition(":")
    if not colon or not name:
        return None
    if _DIGEST not in kind:
        return ResourceKey(kind, name) if kind else None
    kind, _, digest = kind.partition(_DIGEST)
    if not kind or len(digest) != _DIGEST_LENGTH:
        return None
    return ResourceKey(kind, name, digest)


def integration_choice(name: str) -> Choice:
    return Choice(name, name)


def resource_choice(resource_type: str, name: str) -> Choice:
    return Choice(resource_value(resource_type, name), f"{resource_type} {name}", resource_type)


def permission_choice(permission: str) -> Choice:
    return Choice(permission, permission)


def duration_choice(duration: timedelta) -> Choice:
    return Choice(format_duration(duration), describe_duration(duration))


def duration_value(sent: str) -> str:
    """A sent duration in the form the choices use (``60m`` → ``1h``); as sent if unreadable."""
    try:
        return format_duration(parse_duration(sent))
    except ValueError:
        return sent


# --------------------------------------------------------------------------- the form


@dataclass(frozen=True)
class FormInput:
    """What a person filled in, as their platform sent it: option values and typed text."""

    integration: str = ""
    resource: str = ""
    permission: str = ""
    duration: str = ""
    justification: str = ""
    collection: str = ""  # typed below a chosen database; "" for the database itself

    @classmethod
    def of(cls, values: Mapping[str, object]) -> FormInput:
        """From ``{field: text}``; anything that is not text counts as not filled in."""
        texts = {name: values.get(name) for name in FIELDS}
        kept = {k: v.strip() for k, v in texts.items() if isinstance(v, str) and k != JUSTIFICATION}
        said = texts[JUSTIFICATION]
        return cls(**kept, justification=said if isinstance(said, str) else "")

    @classmethod
    def of_draft(cls, draft: Draft) -> FormInput:
        """A collection's draft fills in its database and names the collection below it."""
        kind, name, collection = draft.resource_type, draft.resource_name, ""
        parts = namespaces.split(name) if kind == COLLECTION else None
        if parts is not None:
            kind, (name, collection) = namespaces.DATABASE, parts
        return cls(
            integration=draft.integration,
            resource=resource_value(kind, name),
            permission=draft.permission,
            duration=format_duration(draft.duration),
            justification=draft.justification,
            collection=collection,
        )


@dataclass(frozen=True)
class Step:
    """One choice of the form: what it offers, what is chosen, and what was sent for it."""

    offered: tuple[Choice, ...] = ()
    chosen: Choice | None = None
    sent: str = ""


def pick(offered: tuple[Choice, ...], sent: str) -> Step:
    """The offered choice that was sent; the only option when there is just one (a stale or
    tampered value is then replaced, and :meth:`RequestForm.to_draft` says so)."""
    chosen = next((c for c in offered if c.value == sent), None)
    if chosen is None and len(offered) == 1:
        chosen = offered[0]
    return Step(offered, chosen, sent)


@dataclass(frozen=True)
class ApproverPreview:
    name: str
    reason: str


@dataclass(frozen=True)
class RequestForm:
    """The form after what was filled in. ``errors`` (field → message) and ``problem`` (why
    nothing can be requested, or why the submission failed) are what the edges show."""

    integration: Step = Step()
    resource: Step = Step()
    resource_name: str = ""  # the chosen resource's whole name (a long one's value holds its start)
    collection: str = ""  # the collection named in the chosen database, as typed
    collection_shown: bool = False  # a flow lets this person request collections of it
    collection_required: bool = False  # ... and nothing on the database itself
    collection_problem: str | None = None  # why the named collection cannot be requested
    permission: Step = Step()
    duration: Step = Step()
    justification: str = ""
    justification_required: bool = False
    approvers: tuple[ApproverPreview, ...] = ()
    automatic: bool = False
    approvals_required: int = 1
    # A break-glass flow's minimum reason length (0: not break-glass): the form warns, and the
    # justification is the mandatory reason of a self-approval.
    break_glass_reason: int = 0
    problem: str | None = None
    errors: Mapping[str, str] = field(default_factory=dict)

    def step(self, name: str) -> Step:
        return {
            INTEGRATION: self.integration,
            RESOURCE: self.resource,
            PERMISSION: self.permission,
            DURATION: self.duration,
        }[name]

    def value(self, name: str) -> str:
        """The chosen value of a choice; "" when nothing is chosen."""
        chosen = self.step(name).chosen
        return chosen.value if chosen else ""

    def chosen(self) -> FormInput:
        """What the form has chosen, as its inputs hold it when shown again."""
        values = {name: self.value(name) for name in CHOICES}
        return FormInput(**values, justification=self.justification, collection=self.collection)

    @property
    def collection_note(self) -> str | None:
        """What to say beside the collection input: its error, or why the collection named
        cannot be requested (nothing before one is named)."""
        return self.errors.get(COLLECTION) or (self.collection_problem if self.collection else None)

    def collection_hint(self) -> str:
        database = self.resource_name
        if self.collection_required:
            return f"Name the collection of database {database} you need."
        return f"A collection of database {database}; leave it empty for the whole database."

    @property
    def resource_type(self) -> str:
        """The type of what is requested: ``collection`` once one is named, else the chosen
        resource's."""
        if self.collection:
            return COLLECTION
        return self.resource.chosen.group if self.resource.chosen else ""

    @property
    def requested_name(self) -> str:
        """The name of what is requested: ``database.collection`` once a collection is named."""
        if self.collection:
            return namespaces.namespace(self.resource_name, self.collection)
        return self.resource_name

    def shows(self, name: str) -> bool:
        """Whether the form has this input now (each appears once the one above is chosen)."""
        if name == RESOURCE:
            return self.integration.chosen is not None
        if name == COLLECTION:
            return self.collection_shown and self.resource.chosen is not None
        if name in (PERMISSION, DURATION):
            above = self.step(CHOICES[CHOICES.index(name) - 1])
            return above.chosen is not None and bool(self.step(name).offered)
        return True

    @property
    def complete(self) -> bool:
        return all(self.step(name).chosen is not None for name in CHOICES)

    def to_draft(self) -> Draft | dict[str, str]:
        """The draft for ``requests.submit``, or the first choice missing or not allowed."""
        for name in CHOICES:
            if name == PERMISSION and self.collection_problem:
                return {self.beside(COLLECTION): self.collection_problem}
            step = self.step(name)
            if step.chosen is None or step.sent not in ("", step.chosen.value):
                return {self.beside(name): self._refusal(name)}
        integration, _, permission, duration = (
            self.step(name).chosen or Choice("", "") for name in CHOICES
        )
        return Draft(
            integration.value,
            self.resource_type,
            self.requested_name,
            permission.value,
            parse_duration(duration.value),
            self.justification,
        )

    def _refusal(self, name: str) -> str:
        step = self.step(name)
        if not step.offered and self.problem:
            return self.problem
        if not step.sent:
            return MISSING[name]
        if name == RESOURCE and self.collection:
            return COLLECTION_DATABASE
        if name == PERMISSION and self.collection and step.sent not in COLLECTION_ROLES:
            return COLLECTION_ROLES_ONLY
        if name == DURATION and step.offered:
            most = max(parse_duration(c.value) for c in step.offered)
            try:
                if parse_duration(step.sent) > most:
                    return longest(most)
            except ValueError:
                pass
        return NOT_OFFERED[name]

    def beside(self, name: str) -> str:
        """The input to show a message about ``name`` beside: itself, else the nearest above."""
        if name == COLLECTION:
            return COLLECTION if self.shows(COLLECTION) else self.beside(RESOURCE)
        if name not in CHOICES:
            return name
        index = CHOICES.index(name)
        while index > 0 and not self.shows(CHOICES[index]):
            index -= 1
        return CHOICES[index]

    def refused(self, name: str | None, message: str) -> RequestForm:
        """This form with ``message`` beside the input ``name``, or as its problem."""
        if name in FIELDS:
            return replace(self, errors={self.beside(name): message})
        return replace(self, problem=message)
