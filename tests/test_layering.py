"""The layers hold: read off the imports of every module (including those inside functions and
``TYPE_CHECKING`` blocks), so a shortcut across a layer fails here rather than in review.

- ``core`` never imports ``bot``, a chat SDK or aiohttp: both platforms sit on the same core.
- The pure domain (``core.domain``) never imports storage, jobs, use cases, integrations or the
  database libraries.
- ``bot.slack`` and ``bot.teams`` never import each other: what they share lives in core.
- No edge opens a database session: reads and changes go through core's use cases.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAT_SDKS_AND_WEB = ("slack_bolt", "slack_sdk", "botbuilder", "botframework", "aiohttp")
OUTSIDE_THE_DOMAIN = (
    "core.storage",
    "core.jobs",
    "core.use_cases",
    "core.integrations",
    "core.context",
    "core.runtime",
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "httpx",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else None
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = (package or _module_name(path)).split(".")
                base = ".".join(anchor[: len(anchor) - node.level + 1] + ([base] if base else []))
            yield node.lineno, base
            for alias in node.names:  # ``from core import storage`` imports core.storage
                yield node.lineno, f"{base}.{alias.name}"


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules(package)
        for line, name in _imports(path)
        if _within(name, forbidden)
    ]


def test_core_never_imports_the_edges_a_chat_sdk_or_aiohttp() -> None:
    assert _violations("core", ("bot", *CHAT_SDKS_AND_WEB)) == []


def test_the_domain_is_pure() -> None:
    assert _violations("core/domain", OUTSIDE_THE_DOMAIN) == []


@pytest.mark.parametrize(("platform", "other"), [("slack", "teams"), ("teams", "slack")])
def test_platform_edges_never_import_each_other(platform: str, other: str) -> None:
    assert _violations(f"bot/{platform}", (f"bot.{other}",)) == []


SESSION = re.compile(r"\.(reading|transaction)\(\)")


def test_no_edge_opens_a_database_session() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _modules("bot")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if SESSION.search(line)
    ]
    assert found == []


def test_the_checks_see_imports_of_every_form() -> None:
    """The import reader itself: plain, from, relative and nested imports are all seen."""
    sample = ROOT / "core" / "domain" / "routing.py"
    names = {name for _line, name in _imports(sample)}
    assert {"core.domain.errors", "core.domain.errors.NoApprovers", "core.config.schema"} <= names
    assert _within("core.storage.models", ("core.storage",))
    assert not _within("core.storagex", ("core.storage",))
