"""The request modal's inputs: core's form fields read from a view's ``state.values``, and the
block a field's error is shown on. What the form offers, and every check, is core's
(``core.use_cases.request_form``).

Each choice's ``block_id`` carries a digest of the choices above it (``resource-3f2a…`` depends
on the integration). Changing an integration therefore gives the resource input a new block id,
and Slack drops the stale resource instead of keeping it; reading the state back, a value under
an outdated block id is ignored for the same reason. The collection input (below a chosen
database) depends on the integration and the resource the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from bot.slack import ids
from core.domain.request_form import (
    CHOICES,
    COLLECTION,
    DURATION,
    FIELDS,
    INTEGRATION,
    JUSTIFICATION,
    PERMISSION,
    RESOURCE,
    FormInput,
)

ACTION_OF = {
    INTEGRATION: ids.INTEGRATION_SELECT,
    RESOURCE: ids.RESOURCE_SELECT,
    COLLECTION: ids.COLLECTION_INPUT,
    PERMISSION: ids.PERMISSION_SELECT,
    DURATION: ids.DURATION_SELECT,
    JUSTIFICATION: ids.JUSTIFICATION_INPUT,
}


def block_id(field: str, filled: FormInput) -> str:
    """The block id of ``field``'s input, given what is chosen above it."""
    if field == COLLECTION:
        upstream: tuple[str, ...] = (INTEGRATION, RESOURCE)
    else:
        upstream = CHOICES[: CHOICES.index(field)] if field in CHOICES else ()
    if not upstream:
        return field
    chain = "\x1f".join(getattr(filled, name) for name in upstream)
    return f"{field}-{hashlib.sha256(chain.encode()).hexdigest()[:10]}"


def _selected(values: dict[str, Any], block: str, action_id: str) -> str:
    element = (values.get(block) or {}).get(action_id) or {}
    option = element.get("selected_option") or {}
    value = option.get("value") if isinstance(option, dict) else None
    return value.strip() if isinstance(value, str) else ""


def _typed(values: dict[str, Any], block: str, action_id: str) -> str:
    said = ((values.get(block) or {}).get(action_id) or {}).get("value")
    return said if isinstance(said, str) else ""


def input_from_state(values: dict[str, Any]) -> FormInput:
    """What a view's ``state.values`` holds, ignoring values under outdated block ids (and
    every choice below one that is not made)."""
    filled = FormInput()
    for name in CHOICES:
        picked = _selected(values, block_id(name, filled), ACTION_OF[name])
        if not picked:
            break
        filled = replace(filled, **{name: picked})
    if filled.resource:
        named = _typed(values, block_id(COLLECTION, filled), ids.COLLECTION_INPUT)
        filled = replace(filled, collection=named.strip())
    said = _typed(values, JUSTIFICATION, ids.JUSTIFICATION_INPUT)
    return replace(filled, justification=said)


def error_block(values: dict[str, Any], filled: FormInput, field: str | None) -> str:
    """The block id to show an error on: the field's input as it is in the view, else the
    nearest input above it (an error never points at a block the view does not have)."""
    field = field if field in FIELDS else RESOURCE
    present = {
        action_id: block for block, elements in values.items() for action_id in (elements or {})
    }
    order = [field, *reversed(FIELDS[: FIELDS.index(field)]), JUSTIFICATION]
    for candidate in order:
        if ACTION_OF[candidate] in present:
            return present[ACTION_OF[candidate]]
    return block_id(field, filled)
