"""A directory whose approver Bob has a 10,000-character display name (an identity provider may
send anything): the messages about his decision must still show when and why."""

from __future__ import annotations

import copy
from typing import Any

from tests.support.domain import BASE_CONFIG

LONG_NAME = "Bob " + "Ray" * 3332  # 10,000 characters
DECIDED_AT = "2026-11-23 10:00 UTC"  # the test clock's start


def directory_with_a_long_name() -> dict[str, Any]:
    directory = copy.deepcopy(BASE_CONFIG["directory"])
    for user in directory["users"]:
        if user["email"] == "bob@example.com":
            user["name"] = LONG_NAME
    return directory
