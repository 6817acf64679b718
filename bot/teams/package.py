"""The Teams app package: ``manifest.json`` (filled in), ``color.png`` and ``outline.png``.

The template and icons ship inside the distribution, in ``bot/teams/package/``, and are read
with ``importlib.resources`` so an installed ``gatepass`` can build the zip. ``teams/`` at the
repository root holds identical copies for people who sideload by hand; a test keeps them equal.

The bot is installable in ``personal`` scope (requests, approvals, access details) and in
``team`` scope, so that a team's channel can receive the approval asks of the flows that name
it as their ``approval_channel``; nothing but those asks is ever posted to a channel.
"""

from __future__ import annotations

import json
import re
import zipfile
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

APP_ID_PLACEHOLDER = "{{APP_ID}}"
DOMAIN_PLACEHOLDER = "{{DOMAIN}}"
MANIFEST = "manifest.json"
ICONS = ("color.png", "outline.png")
PACKAGE_NAME = "gatepass-teams.zip"
BOT_SCOPES = ("personal", "team")  # team: approval asks in a channel of the team

_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Fixed timestamps: the same inputs always give the same zip.
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)


class TeamsPackageError(ValueError):
    """An argument the package cannot be built with; the message says what to pass instead."""


def assets() -> Traversable:
    """The packaged template and icons (``bot/teams/package/``)."""
    return resources.files("bot.teams").joinpath("package")


def manifest_template() -> dict[str, Any]:
    data = json.loads(assets().joinpath(MANIFEST).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TeamsPackageError("the packaged manifest template is not a JSON object")
    return data


def check_app_id(app_id: str) -> str:
    value = app_id.strip()
    if not _GUID.match(value):
        raise TeamsPackageError(
            f"app_id {app_id!r} is not a GUID; use the bot's Microsoft App ID, "
            "e.g. 3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
        )
    return value.lower()


def check_domain(domain: str) -> str:
    value = domain.strip().rstrip(".").lower()
    labels = value.split(".")
    if (
        "://" in value
        or len(value) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise TeamsPackageError(
            f"domain {domain!r} is not a host name; give the public host that serves "
            "/api/messages, e.g. gatepass.example.com (no https://, port or path)"
        )
    return value


def _fill(node: Any, values: dict[str, str]) -> Any:
    if isinstance(node, str):
        for placeholder, value in values.items():
            node = node.replace(placeholder, value)
        return node
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, dict):
        return {key: _fill(item, values) for key, item in node.items()}
    return node


def render_manifest(*, app_id: str, domain: str) -> dict[str, Any]:
    """The manifest template with the app id and domain filled in."""
    values = {APP_ID_PLACEHOLDER: check_app_id(app_id), DOMAIN_PLACEHOLDER: check_domain(domain)}
    manifest = _fill(manifest_template(), values)
    for bot in manifest.get("bots") or []:
        if tuple(bot.get("scopes") or ()) != BOT_SCOPES:
            raise TeamsPackageError(f"the manifest's bot must have the scopes {list(BOT_SCOPES)}")
    leftover = re.findall(r"\{\{[A-Z_]+\}\}", json.dumps(manifest))
    if leftover:
        raise TeamsPackageError(f"the manifest template has unfilled placeholders {leftover}")
    return manifest


def build_teams_package(*, app_id: str, domain: str, out: Path) -> Path:
    """Write the app package zip; ``out`` is the zip's path or an existing directory for it."""
    manifest = render_manifest(app_id=app_id, domain=domain)
    target = out / PACKAGE_NAME if out.is_dir() else out
    target.parent.mkdir(parents=True, exist_ok=True)
    files = {MANIFEST: (json.dumps(manifest, indent=2) + "\n").encode()}
    files.update({name: assets().joinpath(name).read_bytes() for name in ICONS})
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return target
