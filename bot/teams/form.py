"""The request form's Teams side: the inputs an ``Action.Execute`` carried, read into core's
``FormInput``, and the typeahead's answer shape. What the form offers, and every check of what
was sent, is core's (``core.use_cases.request_form``); nothing is read or stored here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.context import Context
from core.domain.directory import Person
from core.domain.request_form import FormInput
from core.use_cases import request_form

MAX_SEARCH_RESULTS = 15
"""A Teams typeahead shows this many results at once; it pages with ``skip`` for more."""


def input_from(data: Mapping[str, Any]) -> FormInput:
    """The form's inputs, merged by Teams into the action's data under core's field names."""
    return FormInput.of(data)


async def search_resources(
    ctx: Context, person: Person, integration: str, text: str, *, skip: int = 0, top: int = 15
) -> list[tuple[str, str]]:
    """Typeahead over the resources this person may request in ``integration``: (title, value)."""
    found = await request_form.search_resources(
        ctx,
        requester=person.email,
        integration=integration,
        text=text,
        skip=skip,
        limit=max(1, min(top, MAX_SEARCH_RESULTS)),
    )
    return [(choice.title, choice.value) for choice in found]
