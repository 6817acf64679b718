"""The example config with ``approvers: manager``: Dave Kim manages Alice Doe (neither owns
anything, so only routing by manager can make Dave the approver)."""

from __future__ import annotations

import copy
from typing import Any

from tests.support.domain import BASE_CONFIG


def manager_changes() -> dict[str, Any]:
    """``config_with`` keys: the directory with Alice's manager, the flow asking managers."""
    directory = copy.deepcopy(BASE_CONFIG["directory"])
    for user in directory["users"]:
        if user["email"] == "alice@example.com":
            user["attributes"]["manager"] = "dave@example.com"
    flows = copy.deepcopy(BASE_CONFIG["access_flows"])
    flows[0]["approvers"] = "manager"
    return {"directory": directory, "access_flows": flows}
