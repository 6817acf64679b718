"""Settings: the validated config plus its secrets, resolved once at start.

A platform or integration whose secret cannot be resolved is left out (fail closed) and named,
with the variable or file to set, in ``Settings.unavailable``: ``serve`` keeps running without
it and says so on ``/healthz``; ``check-config`` fails on it.

A relative SQLite path in the config file's ``database_url`` is taken from the config file's
folder (one in ``GATEPASS_DATABASE_URL`` from the current folder), so every command finds the
same database wherever it is run from; the generated encryption key file sits beside it.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import ValidationError

from core.config.network import dev_mode_problem
from core.config.schema import ConfigError, GatepassConfig, load_config
from core.config.secrets import SecretRef, SecretUnavailable, SecretValue
from core.config.sections import ServerConfig, database_url_problem
from core.config.webhooks import resolve_webhook_secrets

DATABASE_URL_ENV = "GATEPASS_DATABASE_URL"
CONFIG_ENV = "GATEPASS_CONFIG"


@dataclass(frozen=True)
class Unavailable:
    """A component left out, and why: ``slack`` — ``variable SLACK_BOT_TOKEN: not set``."""

    component: str
    source: str
    problem: str

    def describe(self) -> str:
        return f"{self.component}: {self.source} {self.problem}"


@dataclass(frozen=True)
class SlackSecrets:
    bot_token: SecretValue
    signing_secret: SecretValue
    app_token: SecretValue | None


@dataclass(frozen=True)
class TeamsSecrets:
    app_id: SecretValue
    app_password: SecretValue
    tenant_id: SecretValue | None


@dataclass
class Settings:
    config: GatepassConfig
    config_path: str
    database_url: str
    slack: SlackSecrets | None = None
    teams: TeamsSecrets | None = None
    integration_secrets: dict[str, dict[str, SecretValue]] = field(default_factory=dict)
    encryption_key: SecretValue | None = None
    scim_token: SecretValue | None = None
    webhook_secrets: dict[str, SecretValue] = field(default_factory=dict)
    unavailable: list[Unavailable] = field(default_factory=list)

    @property
    def available_integrations(self) -> list[str]:
        return [i.name for i in self.config.integrations if i.name in self.integration_secrets]


def _resolve_all(
    refs: Mapping[str, SecretRef | None], environ: Mapping[str, str]
) -> dict[str, SecretValue | None]:
    """Resolve several references; MissingSecrets names every one that is missing."""
    resolved: dict[str, SecretValue | None] = {}
    missing: list[SecretUnavailable] = []
    for key, ref in refs.items():
        try:
            resolved[key] = None if ref is None else ref.resolve(environ)
        except SecretUnavailable as error:
            missing.append(error)
    if missing:
        raise MissingSecrets(missing)
    return resolved


def _resolve_slack(config: GatepassConfig, environ: Mapping[str, str]) -> SlackSecrets | None:
    slack = config.slack
    if slack is None:
        return None
    refs = {
        "bot_token": slack.bot_token,
        "signing_secret": slack.signing_secret,
        "app_token": slack.app_token,
    }
    return SlackSecrets(**_resolve_all(refs, environ))  # type: ignore[arg-type]


def _resolve_teams(config: GatepassConfig, environ: Mapping[str, str]) -> TeamsSecrets | None:
    teams = config.teams
    if teams is None or teams.dev_mode:
        return None
    refs = {
        "app_id": teams.app_id,
        "app_password": teams.app_password,
        "tenant_id": teams.tenant_id,
    }
    return TeamsSecrets(**_resolve_all(refs, environ))  # type: ignore[arg-type]


_KEY_SHAPES = ({"public_key", "private_key"}, {"client_id", "client_secret"})


def _resolve_integration_secret(
    secret: SecretRef | dict[str, SecretRef], environ: Mapping[str, str]
) -> dict[str, SecretValue]:
    """The integration's key pair; every missing part is reported, not only the first."""
    if isinstance(secret, SecretRef):
        values = secret.resolve_mapping(environ)
        if set(values) not in _KEY_SHAPES:
            raise SecretUnavailable(
                secret.source,
                'must hold {"public_key", "private_key"} or {"client_id", "client_secret"}',
            )
        return values
    return _resolve_all(secret, environ)  # type: ignore[return-value]


class MissingSecrets(Exception):
    def __init__(self, missing: list[SecretUnavailable]) -> None:
        super().__init__("; ".join(str(m) for m in missing))
        self.missing = missing


_SQLITE_URL = re.compile(r"^(?P<scheme>sqlite(?:\+\w+)?):///(?P<path>[^?]*)(?P<query>\?.*)?$")


def sqlite_path(database_url: str) -> Path | None:
    """The file a SQLite URL names; None for another database or an in-memory one."""
    match = _SQLITE_URL.match(database_url)
    if match is None or match["path"] in ("", ":memory:"):
        return None
    query = match["query"] or ""
    if "mode=memory" in query or "uri=true" in query:
        return None
    return Path(match["path"])


def anchor_database_url(database_url: str, folder: Path) -> str:
    """The URL with a relative SQLite path made absolute from ``folder``; others unchanged."""
    match = _SQLITE_URL.match(database_url)
    path = sqlite_path(database_url)
    if match is None or path is None or path.is_absolute():
        return database_url
    return f"{match['scheme']}:///{os.path.abspath(folder / path)}{match['query'] or ''}"


def _config_folder(config_path: str) -> Path:
    # abspath, not resolve(): a Kubernetes ConfigMap file is a symlink into a folder that is
    # renamed on every update, while the folder the file is named in stays put.
    return Path(os.path.abspath(config_path)).parent


class NoDatabase(Exception):
    """An administrator's command found no SQLite database file (and creates none)."""

    def __init__(self, path: Path, config_path: str) -> None:
        self.path = path
        self.config_path = config_path
        config = os.path.abspath(config_path)
        super().__init__(
            f"no database at {path}: create it with "
            f'"gatepass db upgrade --config {config}" or start "gatepass serve"'
        )


def require_existing_database(database_url: str, *, config_path: str) -> None:
    """Raise NoDatabase when the URL names a SQLite file that does not exist.

    Other databases are not looked at here: a PostgreSQL database is created by its server.
    """
    path = sqlite_path(database_url)
    if path is not None and not path.is_file():
        raise NoDatabase(path, config_path)


def _default_key_path(database_url: str) -> Path | None:
    path = sqlite_path(database_url)
    return None if path is None else path.with_name(path.name + ".key")


def _generated_key(path: Path) -> SecretValue:
    """A Fernet key in a 0600 file beside the SQLite database, made on first run."""
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as error:
            raise SecretUnavailable(
                f"file {path}", f"cannot be created beside the database ({error.strerror})"
            ) from None
        with os.fdopen(descriptor, "w") as handle:
            handle.write(Fernet.generate_key().decode())
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SecretUnavailable(f"file {path}", f"is readable by others (mode {mode:o}); use 0600")
    return SecretValue(path.read_text().strip())


def _resolve_encryption_key(
    config: GatepassConfig, database_url: str, environ: Mapping[str, str]
) -> SecretValue:
    if config.encryption_key is not None:
        key = config.encryption_key.resolve(environ)
        source = config.encryption_key.source
    else:
        path = _default_key_path(database_url)
        if path is None:
            raise SecretUnavailable(
                "encryption_key",
                "is required with this database: every replica must share one key",
            )
        key = _generated_key(path)
        source = f"file {path}"
    try:
        Fernet(key.reveal().encode())
    except ValueError:
        raise SecretUnavailable(
            source, "is not a Fernet key (32 url-safe base64-encoded bytes)"
        ) from None
    return key


def resolve_database_url(
    config: GatepassConfig, *, config_path: str, environ: Mapping[str, str]
) -> str:
    """``GATEPASS_DATABASE_URL``, else the config's ``database_url`` (a URL, or a reference
    ``env:NAME`` / ``file:PATH`` to one, so that a password stays out of the file)."""
    from_environment = environ.get(DATABASE_URL_ENV, "").strip()
    if from_environment:
        _check_database_url(from_environment, config_path, where=DATABASE_URL_ENV)
        return anchor_database_url(from_environment, Path.cwd())
    url = config.database_url
    if url.startswith(("env:", "file:")):
        try:
            url = SecretRef.parse(url).resolve_text(environ)
        except (ValueError, SecretUnavailable) as error:
            raise ConfigError(config_path, [f"database_url: {error}"]) from None
        _check_database_url(url, config_path, where=f"database_url ({config.database_url})")
    return anchor_database_url(url, _config_folder(config_path))


def _check_pool_applies(config: GatepassConfig, database_url: str, config_path: str) -> None:
    """``database_pool`` sizes PostgreSQL connections: set with SQLite it would do nothing."""
    if "database_pool" in config.model_fields_set and sqlite_path(database_url) is not None:
        raise ConfigError(
            config_path,
            [
                "database_pool: applies to PostgreSQL only; the database is SQLite "
                "(one process, one writer): remove the section or use postgresql+psycopg://"
            ],
        )


def _check_database_url(url: str, config_path: str, *, where: str) -> None:
    problem = database_url_problem(url)
    if problem is not None:
        raise ConfigError(config_path, [f"{where}: {problem}"])


def resolve_settings(
    config: GatepassConfig,
    *,
    config_path: str,
    environ: Mapping[str, str],
    existing_database: bool = False,
) -> Settings:
    """Resolve every secret. With ``existing_database``, a missing SQLite file raises
    NoDatabase before anything is written (neither the database nor its key file)."""
    database_url = resolve_database_url(config, config_path=config_path, environ=environ)
    if existing_database:
        require_existing_database(database_url, config_path=config_path)
    _check_pool_applies(config, database_url, config_path)
    settings = Settings(config=config, config_path=config_path, database_url=database_url)
    for component, resolve in (("slack", _resolve_slack), ("teams", _resolve_teams)):
        try:
            setattr(settings, component, resolve(config, environ))
        except MissingSecrets as missing:
            settings.unavailable.extend(
                Unavailable(component, item.source, item.problem) for item in missing.missing
            )
    if config.directory.scim is not None:
        try:
            settings.scim_token = config.directory.scim.token.resolve(environ)
        except SecretUnavailable as missing:
            settings.unavailable.append(Unavailable("scim", missing.source, missing.problem))
    for integration in config.integrations:
        try:
            settings.integration_secrets[integration.name] = _resolve_integration_secret(
                integration.secret, environ
            )
        except SecretUnavailable as missing:
            settings.unavailable.append(
                Unavailable(f"integration {integration.name}", missing.source, missing.problem)
            )
        except MissingSecrets as missing:
            settings.unavailable.extend(
                Unavailable(f"integration {integration.name}", item.source, item.problem)
                for item in missing.missing
            )
    settings.webhook_secrets, missing_hooks = resolve_webhook_secrets(config.webhooks, environ)
    settings.unavailable.extend(
        Unavailable(f"webhook {name}", item.source, item.problem) for name, item in missing_hooks
    )
    try:
        settings.encryption_key = _resolve_encryption_key(config, database_url, environ)
    except SecretUnavailable as missing:
        settings.unavailable.append(Unavailable("encryption_key", missing.source, missing.problem))
    return settings


def load_settings(
    path: str | os.PathLike[str], environ: Mapping[str, str], *, existing_database: bool = False
) -> Settings:
    return resolve_settings(
        load_config(Path(path)),
        config_path=str(path),
        environ=environ,
        existing_database=existing_database,
    )


def serving_on(settings: Settings, *, host: str | None, port: int | None) -> Settings:
    """The settings with ``server`` overridden (``gatepass serve --host/--port``), held to the
    same rules as the file: a command-line host cannot expose an unauthenticated dev mode."""
    try:
        server = ServerConfig(
            host=host or settings.config.server.host,
            port=port if port is not None else settings.config.server.port,
            metrics=settings.config.server.metrics,
        )
    except ValidationError as error:
        problems = [str(e["msg"]).removeprefix("Value error, ") for e in error.errors()]
        raise ConfigError(settings.config_path, [f"--port: {p}" for p in problems]) from None
    teams = settings.config.teams
    problem = dev_mode_problem(dev_mode=teams is not None and teams.dev_mode, host=server.host)
    if problem is not None:
        raise ConfigError(settings.config_path, [f"--host: {problem}"])
    return replace(settings, config=settings.config.model_copy(update={"server": server}))
