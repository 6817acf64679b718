"""Block Kit limits as the fake Slack enforces them, with Slack's own error wording.

Written from Slack's Block Kit reference, independently of ``bot/slack/text.py``: a builder that
trusts its own constants is checked against these. Each problem reads like Slack's
``response_metadata.messages``: ``[ERROR] must be less than 3001 characters
[json-pointer:/blocks/0/text/text]``.
"""

from __future__ import annotations

from typing import Any

BLOCK_TYPES = {
    "actions", "context", "divider", "file", "header", "image", "input", "markdown",
    "rich_text", "section", "video",
}  # fmt: skip
SELECTS = {
    "static_select", "external_select", "users_select", "conversations_select",
    "channels_select", "multi_static_select", "multi_external_select", "multi_users_select",
    "multi_conversations_select", "multi_channels_select",
}  # fmt: skip
ELEMENT_TYPES = SELECTS | {
    "button", "checkboxes", "datepicker", "datetimepicker", "email_text_input", "image",
    "number_input", "overflow", "plain_text_input", "radio_buttons", "timepicker",
    "url_text_input", "rich_text_input", "file_input",
}  # fmt: skip
INPUT_ONLY = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}


class _Check:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.problems.append(f"[ERROR] {message} [json-pointer:{path}]")

    def string(self, value: Any, path: str, *, limit: int, required: bool = True) -> None:
        if value is None:
            if required:
                self.error(path, "missing required field")
            return
        if not isinstance(value, str):
            self.error(path, "must provide a string")
        elif len(value) > limit:
            self.error(path, f"must be less than {limit + 1} characters")
        elif not value and required:
            self.error(path, "must be more than 0 characters")

    def items(self, value: Any, path: str, *, limit: int, minimum: int = 0) -> list[Any]:
        if not isinstance(value, list):
            self.error(path, "must provide an array")
            return []
        if len(value) > limit:
            self.error(path, f"no more than {limit} items allowed")
        if len(value) < minimum:
            self.error(path, f"must provide at least {minimum} items")
        return value

    def text(self, value: Any, path: str, *, limit: int = 3000, plain: bool = False) -> None:
        if not isinstance(value, dict):
            self.error(path, "must provide an object")
            return
        kind = value.get("type")
        if kind not in ("plain_text", "mrkdwn") or (plain and kind != "plain_text"):
            expected = "plain_text" if plain else "plain_text, mrkdwn"
            self.error(f"{path}/type", f"must be one of: {expected}")
        self.string(value.get("text"), f"{path}/text", limit=min(limit, 3000))

    def element(self, value: Any, path: str, *, in_input: bool = False) -> None:
        if not isinstance(value, dict):
            self.error(path, "must provide an object")
            return
        kind = value.get("type")
        if kind not in ELEMENT_TYPES or (kind in INPUT_ONLY and not in_input):
            self.error(path, "failed to match all allowed schemas")
            return
        if kind != "image":
            self.string(value.get("action_id"), f"{path}/action_id", limit=255, required=False)
        if "placeholder" in value:
            self.text(value["placeholder"], f"{path}/placeholder", limit=150, plain=True)
        if "confirm" in value:
            self.confirm(value["confirm"], f"{path}/confirm")
        if kind == "button":
            self.text(value.get("text"), f"{path}/text", limit=75, plain=True)
            self.string(value.get("value"), f"{path}/value", limit=2000, required=False)
            self.string(value.get("url"), f"{path}/url", limit=3000, required=False)
            if value.get("style") not in (None, "primary", "danger"):
                self.error(f"{path}/style", "must be one of: primary, danger")
        elif kind == "image":
            self.string(value.get("image_url"), f"{path}/image_url", limit=3000)
            self.string(value.get("alt_text"), f"{path}/alt_text", limit=2000)
        elif kind in SELECTS | {"overflow", "checkboxes", "radio_buttons"}:
            self.choices(value, path, kind)
        elif kind == "plain_text_input" and "max_length" in value:
            maximum = value["max_length"]
            if not isinstance(maximum, int) or not 0 < maximum <= 3000:
                self.error(f"{path}/max_length", "must be between 1 and 3000")

    def choices(self, value: dict[str, Any], path: str, kind: str) -> None:
        plain = kind in SELECTS or kind == "overflow"
        limit, minimum = (5, 2) if kind == "overflow" else (100, 0)
        if "options" in value:
            for index, option in enumerate(
                self.items(value["options"], f"{path}/options", limit=limit, minimum=minimum)
            ):
                self.option(option, f"{path}/options/{index}", plain=plain)
        if "option_groups" in value:
            groups = self.items(value["option_groups"], f"{path}/option_groups", limit=100)
            for index, group in enumerate(groups):
                where = f"{path}/option_groups/{index}"
                self.text(group.get("label"), f"{where}/label", limit=75, plain=True)
                for number, option in enumerate(
                    self.items(group.get("options"), f"{where}/options", limit=100)
                ):
                    self.option(option, f"{where}/options/{number}", plain=True)
        if kind == "static_select" and "options" not in value and "option_groups" not in value:
            self.error(path, "must provide either options or option_groups")

    def option(self, value: Any, path: str, *, plain: bool) -> None:
        if not isinstance(value, dict):
            self.error(path, "must provide an object")
            return
        self.text(value.get("text"), f"{path}/text", limit=75, plain=plain)
        self.string(value.get("value"), f"{path}/value", limit=150)
        if "description" in value:
            self.text(value["description"], f"{path}/description", limit=75, plain=plain)

    def confirm(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            self.error(path, "must provide an object")
            return
        self.text(value.get("title"), f"{path}/title", limit=100, plain=True)
        self.text(value.get("text"), f"{path}/text", limit=300)
        self.text(value.get("confirm"), f"{path}/confirm", limit=30, plain=True)
        self.text(value.get("deny"), f"{path}/deny", limit=30, plain=True)

    def block(self, value: Any, path: str, *, surface: str) -> None:
        if not isinstance(value, dict) or value.get("type") not in BLOCK_TYPES:
            self.error(path, "failed to match all allowed schemas")
            return
        kind = value["type"]
        self.string(value.get("block_id"), f"{path}/block_id", limit=255, required=False)
        if kind == "section":
            if "text" not in value and "fields" not in value:
                self.error(path, "must provide either text or fields")
            if "text" in value:
                self.text(value["text"], f"{path}/text", limit=3000)
            if "fields" in value:
                for index, field in enumerate(
                    self.items(value["fields"], f"{path}/fields", limit=10)
                ):
                    self.text(field, f"{path}/fields/{index}", limit=2000)
            if "accessory" in value:
                self.element(value["accessory"], f"{path}/accessory")
        elif kind == "header":
            self.text(value.get("text"), f"{path}/text", limit=150, plain=True)
        elif kind == "context":
            elements = self.items(value.get("elements"), f"{path}/elements", limit=10, minimum=1)
            for index, element in enumerate(elements):
                where = f"{path}/elements/{index}"
                if isinstance(element, dict) and element.get("type") == "image":
                    self.element(element, where)
                else:
                    self.text(element, where)
        elif kind == "actions":
            elements = self.items(value.get("elements"), f"{path}/elements", limit=25, minimum=1)
            seen: set[str] = set()
            for index, element in enumerate(elements):
                self.element(element, f"{path}/elements/{index}")
                action_id = element.get("action_id") if isinstance(element, dict) else None
                if action_id is not None and action_id in seen:
                    self.error(f"{path}/elements/{index}/action_id", "action_id must be unique")
                seen.add(action_id)
        elif kind == "input":
            if surface == "message":
                self.error(path, "input blocks are only allowed in modals and the App Home")
            self.text(value.get("label"), f"{path}/label", limit=2000, plain=True)
            if "hint" in value:
                self.text(value["hint"], f"{path}/hint", limit=2000, plain=True)
            self.element(value.get("element"), f"{path}/element", in_input=True)
        elif kind == "image":
            self.string(value.get("image_url"), f"{path}/image_url", limit=3000)
            self.string(value.get("alt_text"), f"{path}/alt_text", limit=2000)


def check_blocks(blocks: Any, *, surface: str, path: str = "/blocks") -> list[str]:
    """Problems with ``blocks`` on ``surface`` (``message``, ``modal`` or ``home``); [] if none."""
    check = _Check()
    limit = 50 if surface == "message" else 100
    block_ids: set[str] = set()
    for index, block in enumerate(check.items(blocks, path, limit=limit)):
        check.block(block, f"{path}/{index}", surface=surface)
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is not None:
            if block_id in block_ids:
                check.error(f"{path}/{index}/block_id", "duplicate block_id")
            block_ids.add(block_id)
    return check.problems


def check_view(view: Any) -> list[str]:
    """Problems with a modal or Home tab view, as ``views.*`` reports them; [] if none."""
    check = _Check()
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        check.error("/view/type", "must be one of: modal, home")
        return check.problems
    if view["type"] == "modal":
        check.text(view.get("title"), "/view/title", limit=24, plain=True)
        for key in ("submit", "close"):
            if key in view:
                check.text(view[key], f"/view/{key}", limit=24, plain=True)
        has_input = any(
            isinstance(block, dict) and block.get("type") == "input"
            for block in view.get("blocks") or []
        )
        if has_input and "submit" not in view:
            check.error("/view", "must provide a submit property when using input blocks")
    check.string(view.get("callback_id"), "/view/callback_id", limit=255, required=False)
    check.string(view.get("external_id"), "/view/external_id", limit=255, required=False)
    check.string(view.get("private_metadata"), "/view/private_metadata", limit=3000, required=False)
    problems = check.problems
    return problems + check_blocks(view.get("blocks"), surface=view["type"], path="/view/blocks")
