"""How the CLI prints: tables for people, JSON for scripts, errors on stderr with exit 1."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NoReturn

import typer


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_json(data: Any) -> str:
    return json.dumps(_plain(data), indent=2, sort_keys=True, default=str)


def emit(data: Any, as_json: bool, text: str) -> None:
    typer.echo(to_json(data) if as_json else text)


def fail(message: str, *, data: Any = None, as_json: bool = False) -> NoReturn:
    if as_json and data is not None:
        typer.echo(to_json(data))
    typer.echo(message, err=True)
    raise typer.Exit(1)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [
        max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)
    ]
    lines = ["  ".join(column.upper().ljust(widths[i]) for i, column in enumerate(columns))]
    lines += ["  ".join(value.ljust(widths[i]) for i, value in enumerate(line)) for line in cells]
    return "\n".join(line.rstrip() for line in lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    text = str(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:59] + "…"
