"""Who approves a request, and why. Pure: no I/O, no clock.

``owners`` routing reads the resource owner tag (the resource's own tags, then its cluster's,
then its project's), maps the tag value through the directory attribute, and falls back to the
integration owners when that yields nobody. ``manager`` routing asks the requester's manager
(the directory's ``manager`` attribute: SCIM's enterprise ``manager.value`` resolved to that
person, or a config-file user's ``attributes.manager``) and falls back to the integration owners
when there is no manager, the manager is not in the directory, or the manager is the requester.
When a flow needs more approvals than the manager alone can give, the integration owners are
asked as well. The requester is removed everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from core.config.schema import AccessFlow, IntegrationBase
from core.domain.directory import Directory, manager_of, members_of
from core.domain.errors import NoApprovers


@dataclass(frozen=True)
class TaggedResource:
    """One link of a resource's chain: the resource itself, then its parents."""

    type: str
    name: str
    tags: dict[str, str]


@dataclass(frozen=True)
class Approver:
    email: str
    name: str
    reason: str


@dataclass(frozen=True)
class Routing:
    approvers: tuple[Approver, ...]
    escalation: tuple[Approver, ...] = ()  # integration owners asked if nobody decides in time
    automatic: bool = False
    via_resource_owner: bool = False


def _without(people: Sequence[Approver], requester: str) -> list[Approver]:
    return [a for a in people if a.email != requester]


def integration_owners(
    integration: IntegrationBase, directory: Directory, *, reason_suffix: str = ""
) -> list[Approver]:
    return [
        Approver(
            person.email, person.label, f"integration owner of {integration.name}{reason_suffix}"
        )
        for person, _ in members_of(directory, integration.integration_owners)
    ]


def owner_tag(
    integration: IntegrationBase, chain: Sequence[TaggedResource]
) -> tuple[TaggedResource, str] | None:
    """The nearest link of ``chain`` carrying the resource owner tag, and the tag's value."""
    rule = integration.resource_owner
    if rule is None:
        return None
    for link in chain:
        value = link.tags.get(rule.tag_key)
        if value:
            return link, value
    return None


def resource_owners(
    integration: IntegrationBase, chain: Sequence[TaggedResource], directory: Directory
) -> list[Approver]:
    rule, tagged = integration.resource_owner, owner_tag(integration, chain)
    if rule is None or tagged is None:
        return []
    link, value = tagged
    return [
        Approver(
            person.email,
            person.label,
            f"owner of {link.type} {link.name} via tag {rule.tag_key}={value}",
        )
        for person in directory.members(rule.attribute, value)
    ]


FALLBACK = "falling back to the integration owners"


def fallback_reason(
    integration: IntegrationBase, chain: Sequence[TaggedResource], *, owners_found: bool
) -> str:
    """Why the integration owners approve a request routed to resource owners: the one
    wording every edge shows (the approvers' "why you" line, ``approvers-for``)."""
    rule = integration.resource_owner
    if rule is None:
        return ""
    if owners_found:
        return " (the only resource owner is the requester)"
    tagged = owner_tag(integration, chain)
    if tagged is None:
        where = f"{chain[0].type} {chain[0].name} or its parents" if chain else "the resource"
        return f" (no owner tag {rule.tag_key} on {where}; {FALLBACK})"
    link, value = tagged
    return (
        f" (owner tag {rule.tag_key}={value} on {link.type} {link.name} matches nobody in "
        f"the directory; {FALLBACK})"
    )


def _owners_routing(
    requester: str,
    integration: IntegrationBase,
    chain: Sequence[TaggedResource],
    directory: Directory,
) -> Routing:
    owners = resource_owners(integration, chain, directory)
    chosen = _without(owners, requester)
    if chosen:
        fallback = _without(integration_owners(integration, directory), requester)
        escalation = tuple(a for a in fallback if a.email not in {c.email for c in chosen})
        return Routing(tuple(chosen), escalation=escalation, via_resource_owner=True)
    suffix = fallback_reason(integration, chain, owners_found=bool(owners))
    fallback = integration_owners(integration, directory, reason_suffix=suffix)
    return Routing(tuple(_without(fallback, requester)))


def _manager_routing(
    requester: str, flow: AccessFlow, integration: IntegrationBase, directory: Directory
) -> Routing:
    person = directory.person(requester)
    named = person.attributes.get("manager", "").strip() if person is not None else ""
    manager = manager_of(directory, person) if person is not None else None
    if person is not None and manager is not None and manager.email != requester:
        chosen = [Approver(manager.email, manager.label, f"manager of {person.label}")]
        if flow.approvals_required > 1:
            # More approvals than one manager can give: the integration owners make up the rest.
            chosen += [
                Approver(a.email, a.name, f"{a.reason} (more approvals needed than the manager's)")
                for a in _without(integration_owners(integration, directory), requester)
                if a.email != manager.email
            ]
        return Routing(tuple(chosen))
    if manager is not None:
        suffix = " (the requester is their own manager)"
    elif named:
        suffix = " (the requester's manager is not in the directory)"
    else:
        suffix = " (the requester has no manager)"
    fallback = integration_owners(integration, directory, reason_suffix=suffix)
    return Routing(tuple(_without(fallback, requester)))


def _escalation(
    routing: Routing, requester: str, integration: IntegrationBase, directory: Directory
) -> tuple[Approver, ...]:
    """The integration owners a request escalates to if nobody decides (``core.jobs.escalation``):
    every one not asked already, never the requester."""
    asked = {a.email for a in routing.approvers}
    owners = _without(integration_owners(integration, directory), requester)
    return tuple(a for a in owners if a.email not in asked)


def route(
    *,
    requester: str,
    flow: AccessFlow,
    integration: IntegrationBase,
    chain: Sequence[TaggedResource],
    directory: Directory,
) -> Routing:
    """The approvers of a request; NoApprovers when nobody may approve it."""
    if flow.is_automatic:
        return Routing((), automatic=True)
    if flow.approvers == "owners":
        routing = _owners_routing(requester, integration, chain, directory)
    elif flow.approvers == "manager":
        routing = _manager_routing(requester, flow, integration, directory)
    else:
        named = [
            Approver(
                person.email, person.label, f"{principal.describe()} (named by flow {flow.name})"
            )
            for person, principal in members_of(directory, flow.approvers)  # type: ignore[arg-type]
        ]
        routing = Routing(tuple(_without(named, requester)))
    routing = replace(routing, escalation=_escalation(routing, requester, integration, directory))
    if not routing.approvers:
        raise NoApprovers(
            f"Nobody can approve this request: no approver other than the requester was found "
            f"for {chain[0].type if chain else 'the resource'} "
            f"{chain[0].name if chain else ''} in {integration.name}. "
            "Ask an administrator to set owners for it."
        )
    if len(routing.approvers) < flow.approvals_required:
        raise NoApprovers(
            f"This access needs {flow.approvals_required} approvals but only "
            f"{len(routing.approvers)} approver(s) other than the requester exist."
        )
    return routing
