"""The ``gatepass`` command."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import wraps
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from bot import admin
from bot.failures import one_line, quiet_late_driver_threads
from bot.output import emit, fail
from core.config.schema import ConfigError
from core.config.settings import CONFIG_ENV, NoDatabase, Settings, load_settings, serving_on

app = typer.Typer(
    help="Just-in-time access to MongoDB Atlas.", no_args_is_help=True, add_completion=False
)
requests_app = typer.Typer(help="Inspect and revoke access requests.", no_args_is_help=True)
audit_app = typer.Typer(help="Export and verify the audit log.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
resources_app = typer.Typer(help="Resources discovered in the integrations.", no_args_is_help=True)
for name, group in {"requests": requests_app, "audit": audit_app, "db": db_app}.items():
    app.add_typer(group, name=name)
app.add_typer(resources_app, name="resources")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help=f"The config file (default: ${CONFIG_ENV} or gatepass.yml)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
T = TypeVar("T")
# The settings this run of the command loaded: a failure later is explained against them.
_loaded: list[Settings] = []


def config_path(option: Path | None) -> Path:
    return option or Path(os.environ.get(CONFIG_ENV) or "gatepass.yml")


def settings_from(option: Path | None, *, existing_database: bool = True) -> Settings:
    """The settings; by default a command needs the database to exist already (see NoDatabase)."""
    path = config_path(option)
    try:
        settings = load_settings(path, os.environ, existing_database=existing_database)
    except (ConfigError, NoDatabase) as error:
        fail(str(error))
    _loaded.append(settings)
    return settings


@contextmanager
def explained() -> Iterator[None]:
    """A failure Gatepass can name (the database, a port in use) ends the command with one
    line and exit 1, not a traceback."""
    quiet_late_driver_threads()
    try:
        yield
    except Exception as error:
        settings = _loaded[-1] if _loaded else None
        line = one_line(
            error,
            database_url=settings.database_url if settings else None,
            config_path=settings.config_path if settings else "the config file",
        )
        if line is None:
            raise
        fail(line)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"gatepass {metadata.version('gatepass')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Just-in-time access to MongoDB Atlas."""


def run(coroutine_function: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
    @wraps(coroutine_function)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with explained():
            return asyncio.run(coroutine_function(*args, **kwargs))

    return wrapper


@app.command("check-config")
def check_config(
    config: ConfigOption = None,
    online: Annotated[
        bool,
        typer.Option(
            help="Also connect to the database, Slack (auth.test), Teams (a token and the "
            "signing keys) and Atlas with the configured credentials."
        ),
    ] = False,
    schema_only: Annotated[
        bool, typer.Option(help="Check the file only; do not resolve secrets.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Validate the config file and its secrets; exit 1 naming every problem."""
    path = config_path(config)
    if schema_only:
        try:
            from core.config.schema import load_config

            load_config(path)
        except ConfigError as error:
            fail(str(error))
        emit(
            {"config": str(path), "ok": True},
            as_json,
            f"{path}: the file is valid (secrets not checked)",
        )
        return
    settings = settings_from(config, existing_database=False)
    problems = [item.describe() for item in settings.unavailable]
    if online and not problems:
        from bot.online import online_problems

        with explained():
            problems += asyncio.run(online_problems(settings))
    if problems:
        fail("\n".join(f"{path}: {p}" for p in problems))
    summary = admin.config_summary(settings)
    emit(
        summary,
        as_json,
        f"{path}: OK\n" + "\n".join(f"  {k}: {v}" for k, v in summary.items() if k != "config"),
    )


@app.command("approvers-for")
@run
async def approvers_for(
    requester: Annotated[str, typer.Option(help="The requester's email.")],
    integration: Annotated[str, typer.Option(help="The integration's name.")],
    resource: Annotated[str, typer.Option(help="TYPE:NAME, e.g. database:analytics.")],
    permission: Annotated[str, typer.Option(help="The permission, e.g. read.")],
    duration: Annotated[
        str | None, typer.Option(help="A duration such as 1h (default: the shortest choice).")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who would approve this request, and why (exit 1 with the reason when nobody can)."""
    await admin.approvers_for(
        settings_from(config),
        requester=requester,
        integration=integration,
        resource=resource,
        permission=permission,
        duration=duration,
        as_json=as_json,
    )


@requests_app.command("list")
@run
async def requests_list(
    status: Annotated[str | None, typer.Option(help="Only requests in this status.")] = None,
    limit: int = 200,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    break_glass: Annotated[
        bool, typer.Option("--break-glass", help="Only break-glass uses, with their review.")
    ] = False,
) -> None:
    """Recent requests, newest first."""
    if break_glass:
        await admin.list_break_glass(
            settings_from(config), status=status, limit=limit, as_json=as_json
        )
        return
    await admin.list_requests(settings_from(config), status=status, limit=limit, as_json=as_json)


@requests_app.command("show")
@run
async def requests_show(
    request_id: str, config: ConfigOption = None, as_json: JsonOption = False
) -> None:
    """One request with its approvers, decisions and grant."""
    await admin.show_request(settings_from(config), request_id, as_json=as_json)


@requests_app.command("revoke")
@run
async def requests_revoke(
    request_id: str,
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke an active grant now (an administrator's action)."""
    await admin.revoke_request(settings_from(config), request_id, reason=reason, as_json=as_json)


@audit_app.command("export")
@run
async def audit_export(
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    since: Annotated[
        datetime | None, typer.Option(help="Only events at or after this time (UTC).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
    config: ConfigOption = None,
) -> None:
    """Export the audit log, oldest first."""
    if fmt not in ("jsonl", "csv"):
        fail("--format must be jsonl or csv")
    await admin.export_audit(settings_from(config), fmt=fmt, since=since, output=output)


@audit_app.command("verify")
@run
async def audit_verify(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Recompute the hash chain; exit 1 naming the first bad event."""
    await admin.verify_audit(settings_from(config), as_json=as_json)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Bring the database schema up to date."""
    from core.storage import migrations

    settings = settings_from(config, existing_database=False)
    with explained():
        migrations.upgrade(settings.database_url)
    typer.echo("database schema is up to date")


@app.command("sync")
@run
async def sync(
    integration: Annotated[str | None, typer.Option(help="Only this integration.")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Discover resources in the integrations now and store them with their tags."""
    await admin.sync(settings_from(config), integration=integration, as_json=as_json)


@resources_app.command("list")
@run
async def resources_list(
    integration: Annotated[str | None, typer.Option(help="Only this integration.")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stored resources with their tags."""
    await admin.list_resources(settings_from(config), integration=integration, as_json=as_json)


# ------------------------------------------------------------------ directory (reads only)

directory_app = typer.Typer(
    help="People, groups, attributes and managers in the directory.", no_args_is_help=True
)
app.add_typer(directory_app, name="directory")


@directory_app.command("list")
@run
async def directory_list(
    group: Annotated[str | None, typer.Option(help="Only the members of this group.")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Everyone in the directory (config file and SCIM), by email."""
    await admin.list_directory(settings_from(config), group=group, as_json=as_json)


@directory_app.command("show")
@run
async def directory_show(
    email: str, config: ConfigOption = None, as_json: JsonOption = False
) -> None:
    """One person: groups, attributes, manager, and where each comes from."""
    await admin.show_directory_person(settings_from(config), email, as_json=as_json)


# ------------------------------------------------------------------ webhooks (bot/webhooks_cli.py)

webhooks_app = typer.Typer(help="Outbound webhooks and their deliveries.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("deliveries")
@run
async def webhooks_deliveries(
    failed: Annotated[
        bool, typer.Option("--failed", help="Only those whose last attempt failed.")
    ] = False,
    webhook: Annotated[str | None, typer.Option(help="Only this webhook's.")] = None,
    limit: int = 200,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recent deliveries, newest first: status, attempts and the last error."""
    from bot import webhooks_cli

    await webhooks_cli.list_deliveries(
        settings_from(config), failed=failed, webhook=webhook, limit=limit, as_json=as_json
    )


@webhooks_app.command("test")
@run
async def webhooks_test(
    name: str, config: ConfigOption = None, as_json: JsonOption = False
) -> None:
    """Send a signed test event to the webhook NAME now; print the outcome (exit 1: failed)."""
    from bot import webhooks_cli

    await webhooks_cli.send_test(settings_from(config), name, as_json=as_json)


@app.command("serve")
def serve(
    config: ConfigOption = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Do not run the job worker here.")
    ] = False,
    host: Annotated[str | None, typer.Option(help="Override server.host.")] = None,
    port: Annotated[int | None, typer.Option(help="Override server.port.")] = None,
) -> None:
    """Run the HTTP server (chat platforms, /healthz, /readyz, /metrics) and, by default, the
    job worker."""
    from bot.serve import serve_forever

    try:
        settings = serving_on(settings_from(config, existing_database=False), host=host, port=port)
    except ConfigError as error:
        fail(str(error))
    with explained():
        serve_forever(settings, run_worker=not no_worker)


@app.command("worker")
def worker(config: ConfigOption = None) -> None:
    """Run only the job worker (any number may run against PostgreSQL)."""
    from bot.serve import work_forever

    settings = settings_from(config, existing_database=False)
    with explained():
        work_forever(settings)


@app.command("teams-package")
def teams_package(
    app_id: Annotated[str, typer.Option(help="The bot's Microsoft app id (a GUID).")],
    domain: Annotated[str, typer.Option(help="The public host name Gatepass is served on.")],
    out: Annotated[Path, typer.Option(help="The zip to write.")] = Path("gatepass-teams.zip"),
) -> None:
    """Write the Teams app package (manifest and icons) to upload."""
    from bot.teams.package import build_teams_package

    try:
        written = build_teams_package(app_id=app_id, domain=domain, out=out)
    except ValueError as error:
        fail(str(error))
    typer.echo(f"wrote {written}")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()


__all__ = ["app", "json", "main"]
