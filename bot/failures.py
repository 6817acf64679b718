"""What the ``gatepass`` command prints when it cannot go on: one line naming the cause and what
to do, never a traceback.

Config problems are reported where the settings are read (``bot.cli.settings_from``); this
module turns what fails later (the database, a port already taken) into such a line.
"""

from __future__ import annotations

import errno
import threading

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.health import describe_database_error
from core.config.settings import sqlite_path


class PortInUse(Exception):
    """``serve`` (or the metrics listener) could not bind its address."""

    def __init__(self, host: str, port: int, what: str, error: OSError) -> None:
        self.host, self.port, self.what = host, port, what
        reason = (
            "the address is already in use"
            if error.errno == errno.EADDRINUSE
            else error.strerror or str(error)
        )
        super().__init__(f"cannot listen on {host}:{port} ({what}): {reason}")


def shown_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        return "(the configured database_url)"


def database_line(error: BaseException, url: str, config_path: str) -> str:
    cause = describe_database_error(error, url)
    path = sqlite_path(url)
    if path is not None:
        return (
            f"gatepass: cannot open the database {path}: {cause}: check that its folder exists "
            f"and that this user may read and write it (database_url in {config_path})"
        )
    return (
        f"gatepass: cannot reach the database {shown_url(url)}: {cause}: check database_url in "
        f"{config_path} (or GATEPASS_DATABASE_URL) and that the database server is running "
        "and accepts this user"
    )


def port_line(error: PortInUse, config_path: str) -> str:
    key = "server.metrics.port" if error.what == "metrics" else "server.port or --port"
    return f"gatepass: {error}: stop what holds it, or choose another port ({key} in {config_path})"


def one_line(error: BaseException, *, database_url: str | None, config_path: str) -> str | None:
    """The line for ``error``, or None when it is not one Gatepass knows how to explain."""
    if isinstance(error, PortInUse):
        return port_line(error, config_path)
    if database_url is not None and _is_database_failure(error):
        return database_line(error, database_url, config_path)
    return None


def quiet_late_driver_threads() -> None:
    """When a SQLite file cannot be opened, aiosqlite's connection thread may answer after the
    loop that asked (the migration's) is closed, and its thread prints that ``RuntimeError``
    with a traceback: it says nothing the one line does not. Other thread errors still print."""
    previous = threading.excepthook
    if getattr(previous, "gatepass", False):
        return

    def hook(args: threading.ExceptHookArgs) -> None:
        if isinstance(args.exc_value, RuntimeError) and "loop is closed" in str(args.exc_value):
            return
        previous(args)

    hook.gatepass = True  # type: ignore[attr-defined]
    threading.excepthook = hook


def _is_database_failure(error: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa.exc.OperationalError | sa.exc.InterfaceError):
            return True
        if type(current).__module__.split(".")[0] in ("psycopg", "sqlite3", "aiosqlite"):
            return True
        current = current.__cause__ or current.__context__
    return False
