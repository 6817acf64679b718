"""The fake Slack's views: modals (open, push, update) and Home tabs (publish), with triggers.

A trigger id works once (``exchanged_trigger_id`` after) and for ``trigger_ttl`` seconds
(``expired_trigger_id`` after); one Slack never minted is ``invalid_trigger_id``. A modal stack
holds at most three views (``push_limit_reached``). ``hash`` guards ``views.update`` and
``views.publish`` against a stale copy (``hash_conflict``).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

from tests.fakes.slack_blocks import check_view

MAX_STACK = 3


class SlackError(Exception):
    """Answered as ``{"ok": false, "error": error, **extra}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class _Trigger:
    user_id: str | None
    view_id: str | None
    minted: float
    used: bool = False


class Views:
    def __init__(self, *, team_id: str, app_id: str, bot_id: str, trigger_ttl: float) -> None:
        self.team_id = team_id
        self.app_id = app_id
        self.bot_id = bot_id
        self.trigger_ttl = trigger_ttl
        self.views: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, str | None] = {}
        self.homes: dict[str, dict[str, Any]] = {}
        self.stacks: dict[str, list[str]] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._ids = itertools.count(1)

    # ----------------------------------------------------------------------- for tests

    def __getitem__(self, view_id: str) -> dict[str, Any]:
        return self.views[view_id]

    def with_callback(self, callback_id: str) -> list[dict[str, Any]]:
        return [v for v in self.views.values() if v.get("callback_id") == callback_id]

    def stack(self, view_id: str) -> list[str]:
        """The modal stack ``view_id`` is in, root first."""
        return list(self.stacks[self.views[view_id]["root_view_id"]])

    def new_trigger(self, *, user_id: str | None, view_id: str | None, age: float) -> str:
        number = next(self._ids)
        trigger_id = f"{number}.{int(time.time())}.{number * 7919:012x}"
        self._triggers[trigger_id] = _Trigger(user_id, view_id, time.monotonic() - age)
        return trigger_id

    # ----------------------------------------------------------------------- methods

    def open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = self._trigger(args.get("trigger_id"))
        view = self._view(args, "modal")
        self._unique_external_id(view)
        trigger.used = True
        stored = self._store(view, owner=trigger.user_id)
        self.stacks[stored["id"]] = [stored["id"]]
        return {"view": stored}

    def push(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = self._trigger(args.get("trigger_id"))
        if trigger.view_id not in self.views:
            message = "views.push needs a trigger from an interaction inside an open modal"
            raise SlackError("invalid_arguments", response_metadata={"messages": [message]})
        view = self._view(args, "modal")
        self._unique_external_id(view)
        root = self.views[trigger.view_id]["root_view_id"]
        stack = self.stacks[root]
        if len(stack) >= MAX_STACK:
            raise SlackError("push_limit_reached")
        trigger.used = True
        stored = self._store(view, owner=trigger.user_id, root=root, previous=stack[-1])
        stack.append(stored["id"])
        return {"view": stored}

    def update(self, args: dict[str, Any]) -> dict[str, Any]:
        current = self._find(args)
        if args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        view = self._view(args, current["type"])
        stored = self._store(
            {"external_id": current.get("external_id", ""), **view},
            owner=self.owners.get(current["id"]),
            view_id=current["id"],
            root=current["root_view_id"],
            previous=current.get("previous_view_id"),
        )
        if stored["type"] == "home":
            self.homes[str(self.owners[stored["id"]])] = stored
        return {"view": stored}

    def publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user_id"))
        current = self.homes.get(user_id)
        if current is not None and args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        view = self._view(args, "home")
        view_id = current["id"] if current is not None else None
        stored = self._store(view, owner=user_id, view_id=view_id)
        self.homes[user_id] = stored
        return {"view": stored}

    # ----------------------------------------------------------------------- helpers

    def _trigger(self, trigger_id: Any) -> _Trigger:
        trigger = self._triggers.get(str(trigger_id)) if trigger_id else None
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() - trigger.minted > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        return trigger

    def _view(self, args: dict[str, Any], kind: str) -> dict[str, Any]:
        view = args.get("view")
        problems = check_view(view)
        if isinstance(view, dict) and view.get("type") != kind and not problems:
            problems = [f"[ERROR] must be one of: {kind} [json-pointer:/view/type]"]
        if problems:
            raise SlackError("invalid_arguments", response_metadata={"messages": problems})
        assert isinstance(view, dict)
        return view

    def _unique_external_id(self, view: dict[str, Any]) -> None:
        external_id = view.get("external_id")
        if external_id and any(v.get("external_id") == external_id for v in self.views.values()):
            raise SlackError("duplicate_external_id")

    def _find(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("view_id"):
            found = self.views.get(str(args["view_id"]))
        elif args.get("external_id"):
            found = next(
                (v for v in self.views.values() if v.get("external_id") == args["external_id"]),
                None,
            )
        else:
            message = "[ERROR] either view_id or external_id is required"
            raise SlackError("invalid_arguments", response_metadata={"messages": [message]})
        if found is None:
            raise SlackError("not_found")
        return found

    def _store(
        self,
        view: dict[str, Any],
        *,
        owner: str | None,
        view_id: str | None = None,
        root: str | None = None,
        previous: str | None = None,
    ) -> dict[str, Any]:
        number = next(self._ids)
        view_id = view_id or f"V{number:08d}"
        stored = {
            "callback_id": "",
            "private_metadata": "",
            "external_id": "",
            **view,
            "id": view_id,
            "team_id": self.team_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{number:08d}",
            "root_view_id": root or view_id,
            "previous_view_id": previous,
        }
        self.views[view_id] = stored
        self.owners[view_id] = owner
        return stored
