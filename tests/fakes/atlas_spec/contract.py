"""The Atlas Admin API contract the fake enforces: the official OpenAPI subset (operations,
versioned media types, request body schemas) and recorded responses (the shapes it answers).

Everything is read from this folder, never from outside the repository.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote

import regex
from jsonschema import Draft7Validator, ValidationError, validators
from referencing import Registry
from referencing.jsonschema import DRAFT7

HERE: Final = Path(__file__).parent
SPEC_FILE: Final = HERE / "atlas-admin-subset.json"
FIXTURES: Final = HERE / "fixtures"
SPEC_URI: Final = "urn:gatepass:atlas-admin-subset"
API_PREFIX: Final = "/api/atlas/v2"
_MEDIA = re.compile(r"^application/vnd\.atlas\.(?P<version>\d{4}-\d{2}-\d{2}|preview)\+json$")


@functools.cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Recorded:
    """One recorded response (``fixtures/*.http``)."""

    status: int
    headers: dict[str, str]
    body: Any


@functools.cache
def recorded(name: str) -> Recorded:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    head, _, body = text.partition("\n\n")
    status_line, *header_lines = head.splitlines()
    headers = dict(line.split(": ", 1) for line in header_lines if ": " in line)
    return Recorded(
        int(status_line.split()[1]), headers, json.loads(body) if body.strip() else None
    )


def template(name: str, index: int = 0) -> dict[str, Any]:
    """A fresh copy of a recorded object (``results[index]`` for a list response)."""
    body = recorded(name).body
    item = body["results"][index] if "results" in body else body
    return json.loads(json.dumps(item))


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # without the /api/atlas/v2 prefix
    operation_id: str
    versions: frozenset[str]  # the Accept versions its success responses declare
    body_types: frozenset[str]
    body_schema: str | None  # "#/components/schemas/..." of its request body
    segments: tuple[re.Pattern[str], ...]
    literal_size: int  # how specific the template is (more literal text wins)

    def match(self, raw_segments: list[str]) -> dict[str, str] | None:
        if len(raw_segments) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for pattern, raw in zip(self.segments, raw_segments, strict=True):
            found = pattern.fullmatch(raw)
            if found is None:
                return None
            params.update({key: unquote(value) for key, value in found.groupdict().items()})
        return params


def _segment_pattern(text: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", text)
    pattern = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+?)"
        for index, part in enumerate(parts)
    )
    return re.compile(pattern)


def _versions(operation: dict[str, Any]) -> frozenset[str]:
    found: set[str] = set()
    for status, response in operation.get("responses", {}).items():
        if not status.startswith("2"):
            continue
        for media in response.get("content", {}):
            if match := _MEDIA.match(media):
                found.add(match["version"])
    return frozenset(found)


def _body(operation: dict[str, Any]) -> tuple[frozenset[str], str | None]:
    content = operation.get("requestBody", {}).get("content", {})
    schema = next((item.get("schema", {}).get("$ref") for item in content.values()), None)
    return frozenset(content), schema


@functools.cache
def operations() -> tuple[Operation, ...]:
    found = []
    for path, item in spec()["paths"].items():
        template_path = path.removeprefix(API_PREFIX) or "/"
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            body_types, body_schema = _body(operation)
            found.append(
                Operation(
                    method=method.upper(),
                    template=template_path,
                    operation_id=operation["operationId"],
                    versions=_versions(operation),
                    body_types=body_types,
                    body_schema=body_schema,
                    segments=tuple(_segment_pattern(s) for s in template_path.split("/")),
                    literal_size=len(re.sub(r"\{\w+\}", "", template_path)),
                )
            )
    return tuple(sorted(found, key=lambda op: -op.literal_size))


def find(method: str, raw_path: str) -> tuple[Operation | None, dict[str, str], bool]:
    """``(operation, path params, path known)`` for a raw (still percent-encoded) path."""
    raw_segments = (raw_path.removeprefix(API_PREFIX) or "/").split("/")
    known = False
    for operation in operations():
        params = operation.match(raw_segments)
        if params is None:
            continue
        known = True
        if operation.method == method:
            return operation, params, True
    return None, {}, known


# --------------------------------------------------------------------------- body validation


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """``pattern`` with Java syntax (``\\p{L}``, named groups) through ``regex``; skip the rest."""
    if not isinstance(instance, str):
        return
    try:
        compiled = regex.compile(pattern)
    except regex.error:
        return
    if not compiled.search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _enum(
    validator: Any, enums: list[Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    """Enums that document a placeholder (``<a custom role name>``) accept any string."""
    if any(isinstance(item, str) and item.startswith("<") for item in enums):
        return
    if instance not in enums:
        yield ValidationError(f"{instance!r} is not one of {enums!r}")


_DISPATCHING: set[tuple[int, int]] = set()


def _one_of(
    validator: Any, one_of: list[Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    """``oneOf`` with an OpenAPI ``discriminator``: validate against the mapped schema only.

    The mapped schemas point back at the discriminating one (``allOf: [base, ...]``), so a
    dispatch already under way for this instance is not started again: that breaks the cycle.
    """
    discriminator = schema.get("discriminator")
    if not discriminator or not isinstance(instance, dict):
        yield from _ONE_OF(validator, one_of, instance, schema)
        return
    key = (id(schema), id(instance))
    if key in _DISPATCHING:
        return
    name = discriminator["propertyName"]
    value = instance.get(name)
    target = (discriminator.get("mapping") or {}).get(value) or f"#/components/schemas/{value}"
    if value is None:
        yield ValidationError(f"{name!r} is required to choose a schema")
        return
    _DISPATCHING.add(key)
    try:
        yield from validator.descend(instance, {"$ref": target})
    finally:
        _DISPATCHING.discard(key)


def _type(validator: Any, types: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """OpenAPI 3.0's ``nullable: true`` admits None."""
    if instance is None and schema.get("nullable"):
        return
    yield from _TYPE(validator, types, instance, schema)


_ONE_OF = Draft7Validator.VALIDATORS["oneOf"]
_TYPE = Draft7Validator.VALIDATORS["type"]
_Validator = validators.extend(
    Draft7Validator, {"pattern": _pattern, "enum": _enum, "oneOf": _one_of, "type": _type}
)


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource(SPEC_URI, DRAFT7.create_resource(spec()))


def body_errors(schema_ref: str, body: Any) -> list[ValidationError]:
    """Schema violations of ``body``; ``$ref``s are resolved lazily, as they are reached."""
    validator = _Validator({"$ref": SPEC_URI + schema_ref}, registry=_registry())
    return sorted(validator.iter_errors(body), key=lambda error: list(error.path))
