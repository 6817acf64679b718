"""SCIM documents to and from core's plain values, with ``scim2-models``.

``scim2-models`` holds the RFC 7643 schemas (core User, the Enterprise User extension, Group),
parses filters and evaluates them on a resource, applies PATCH operations, and serialises
responses honouring ``attributes``/``excludedAttributes``. Its policy is set to accept what Okta
and Microsoft Entra ID really send: case-insensitive ``op``, string booleans, a ``remove`` that
names the members to remove in its ``value``, a value filter on an entry not there yet.
"""

from __future__ import annotations

import re
from typing import Any

from scim2_models import (
    Context,
    EnterpriseUser,
    Group,
    GroupMember,
    GroupMembership,
    Meta,
    PatchOp,
    ResponseParameters,
    ScimPolicy,
    User,
)

from core.use_cases.provisioning import (
    GroupInput,
    GroupRecord,
    ProvisioningError,
    UserInput,
    UserRecord,
)

ScimUser = User[EnterpriseUser]
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)
ENTERPRISE_ATTRIBUTES = {
    "employee_number": "employeeNumber",
    "cost_center": "costCenter",
    "organization": "organization",
    "division": "division",
    "department": "department",
}
STRIP = ("id", "meta", "groups")


class InvalidSyntax(ProvisioningError):
    scim_type = "invalidSyntax"


def _check_schemas(body: Any, allowed: set[str], base: str) -> None:
    if not isinstance(body, dict):
        raise InvalidSyntax("the body must be a JSON object")
    allowed = {a.lower() for a in allowed}
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or not schemas:
        raise InvalidSyntax("schemas: the document must name its schemas")
    unknown = [s for s in schemas if not isinstance(s, str) or s.lower() not in allowed]
    if unknown:
        raise InvalidSyntax(f"schemas: unknown schema {unknown[0]!r}")
    if base.lower() not in {s.lower() for s in schemas}:
        raise InvalidSyntax(f"schemas: {base} is required")


def _manager(value: Any) -> Any:
    """Entra ID sends the manager as a bare id, Okta as {"value"}; the model wants "$ref" too."""
    if isinstance(value, str):
        value = {"value": value}
    if isinstance(value, dict) and value.get("value") and "$ref" not in value:
        value = {**value, "$ref": f"../Users/{value['value']}"}
    return value


def _prepare_user(body: dict[str, Any]) -> dict[str, Any]:
    body = dict(body)
    for key in list(body):
        if key.lower() == ENTERPRISE_SCHEMA.lower() and isinstance(body[key], dict):
            extension = dict(body[key])
            if extension.get("manager") is not None:
                extension["manager"] = _manager(extension["manager"])
            body[key] = extension
        elif key.lower() in STRIP:
            body.pop(key)  # server-managed: never taken from the client
    return body


def parse_user(body: Any) -> ScimUser:
    _check_schemas(body, {USER_SCHEMA, ENTERPRISE_SCHEMA}, USER_SCHEMA)
    return ScimUser.model_validate(
        _prepare_user(body), scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY
    )


def parse_group(body: Any) -> Group:
    _check_schemas(body, {GROUP_SCHEMA}, GROUP_SCHEMA)
    body = {k: v for k, v in body.items() if k.lower() not in STRIP}
    return Group.model_validate(
        body, scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY
    )


def _email(user: ScimUser) -> str:
    emails = [e for e in user.emails or [] if e.value]
    chosen = next((e for e in emails if e.primary), None) or next(
        (e for e in emails if (e.type or "").lower() == "work"), None
    )
    value = chosen or (emails[0] if emails else None)
    if value is not None and value.value:
        return str(value.value)
    if user.user_name and "@" in user.user_name:
        return user.user_name
    raise ProvisioningError("a user needs an email (emails, or a userName that is one)")


def user_input(user: ScimUser) -> UserInput:
    if not user.user_name:
        raise ProvisioningError("userName is required")
    extension = user[EnterpriseUser]
    attributes: dict[str, str] = {}
    manager_id = None
    if extension is not None:
        for field, name in ENTERPRISE_ATTRIBUTES.items():
            value = getattr(extension, field, None)
            if value:
                attributes[name] = str(value)
        if extension.manager is not None and extension.manager.value:
            manager_id = str(extension.manager.value)
    if user.title:
        attributes["title"] = str(user.title)
    name = user.display_name or (
        " ".join(p for p in (user.name.given_name, user.name.family_name) if p) if user.name else ""
    )
    resource = user.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    for key in STRIP:
        resource.pop(key, None)
    return UserInput(
        user_name=user.user_name,
        email=_email(user),
        display_name=name or user.user_name,
        external_id=user.external_id,
        active=user.active is not False,
        manager_id=manager_id,
        attributes=attributes,
        resource=resource,
    )


def group_input(group: Group) -> GroupInput:
    if not group.display_name:
        raise ProvisioningError("displayName is required")
    resource = group.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    for key in (*STRIP, "members"):
        resource.pop(key, None)
    return GroupInput(
        display_name=group.display_name,
        external_id=group.external_id,
        member_ids=tuple(str(m.value) for m in group.members or [] if m.value),
        resource=resource,
    )


def etag(version: int) -> str:
    return f'W/"{version}"'


def version_of(header: str | None) -> int | None:
    if not header or header.strip() == "*":
        return None
    found = re.fullmatch(r'\s*(?:W/)?"(\d+)"\s*', header)
    if found is None:
        raise ProvisioningError(f"If-Match {header!r} is not a version this service gave")
    return int(found.group(1))


def user_model(record: UserRecord, base: str) -> ScimUser:
    row = record.row
    user = ScimUser.model_validate(row.resource, scim_policy=POLICY)
    user.id = row.id
    user.groups = [
        GroupMembership(value=gid, display=name, ref=f"{base}/Groups/{gid}")
        for gid, name in record.groups
    ] or None
    user.meta = Meta(
        resource_type="User",
        created=row.created_at,
        last_modified=row.updated_at,
        location=f"{base}/Users/{row.id}",
        version=etag(row.version),
    )
    return user


def group_model(record: GroupRecord, base: str) -> Group:
    row = record.row
    group = Group.model_validate(row.resource, scim_policy=POLICY)
    group.id = row.id
    group.members = [
        GroupMember(value=uid, display=name or None, ref=f"{base}/Users/{uid}")
        for uid, name in record.members
    ] or None
    group.meta = Meta(
        resource_type="Group",
        created=row.created_at,
        last_modified=row.updated_at,
        location=f"{base}/Groups/{row.id}",
        version=etag(row.version),
    )
    return group


def dump(model: ScimUser | Group, parameters: ResponseParameters[Any] | None = None) -> Any:
    return model.model_dump(
        scim_ctx=Context.RESOURCE_QUERY_RESPONSE,
        response_parameters=parameters,
        scim_policy=POLICY,
    )


def _patch_value(path: Any, value: Any) -> Any:
    if isinstance(path, str) and path.lower().endswith("manager"):
        return _manager(value)
    if path is None and isinstance(value, dict):
        value = dict(value)
        for key in list(value):
            if key.lower() in STRIP:
                value.pop(key)  # Okta repeats the id in a group's replace
            elif key.lower() == ENTERPRISE_SCHEMA.lower() and isinstance(value[key], dict):
                value[key] = _prepare_user({ENTERPRISE_SCHEMA: value[key]})[ENTERPRISE_SCHEMA]
            elif key.lower() == f"{ENTERPRISE_SCHEMA}:manager".lower():
                value[key] = _manager(value[key])
    return value


def parse_patch(body: Any, model: type[ScimUser] | type[Group]) -> PatchOp[Any]:
    _check_schemas(body, {PATCH_SCHEMA}, PATCH_SCHEMA)
    operations = body.get("Operations", body.get("operations"))
    if not isinstance(operations, list) or not operations:
        raise InvalidSyntax("Operations: at least one operation is required")
    prepared = []
    for raw in operations:
        if not isinstance(raw, dict):
            raise InvalidSyntax("Operations: each operation is an object")
        operation = dict(raw)
        if "value" in operation:
            operation["value"] = _patch_value(operation.get("path"), operation["value"])
        prepared.append(operation)
    return PatchOp[model].model_validate(  # type: ignore[valid-type]
        {"schemas": [PATCH_SCHEMA], "Operations": prepared},
        scim_ctx=Context.RESOURCE_PATCH_REQUEST,
        scim_policy=POLICY,
    )


def patch_user(record: UserRecord, base: str, body: Any) -> ScimUser:
    user = user_model(record, base)
    parse_patch(body, ScimUser).patch(user, POLICY)
    return user


def patch_group(record: GroupRecord, base: str, body: Any) -> Group:
    group = group_model(record, base)
    parse_patch(body, Group).patch(group, POLICY)
    return group
