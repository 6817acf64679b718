"""The deployment files name only what exists.

Every file is parsed (YAML with ``yaml.safe_load_all``, the Dockerfile line by line) and what it
names is checked against the product: each ``gatepass`` subcommand and option parses with the
real CLI, each port is the config's server port, each HTTP path is a route of the app, each
config loads with the real loader and the secrets it references, and each environment variable
set is one Gatepass reads.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.app import build
from core.config.schema import load_config, parse_config
from core.config.settings import CONFIG_ENV, DATABASE_URL_ENV
from tests.deploy.files import (
    CONFIG_PATH,
    CONTAINERS,
    DEPLOY,
    PORT,
    Container,
    dockerfile_commands,
    exec_form,
    healthcheck_url,
    instructions,
    kubernetes_objects,
    load_with_secrets,
    run_cli,
    secret_files,
    variables_read,
)

# Set in the image for the interpreter, not read by Gatepass itself.
INTERPRETER_VARIABLES = {"PATH", "PYTHONUNBUFFERED"}


ALL_COMMANDS = dockerfile_commands() + [(c.where, c.arguments) for c in CONTAINERS]


@pytest.mark.parametrize(("where", "arguments"), ALL_COMMANDS, ids=[w for w, _ in ALL_COMMANDS])
def test_each_gatepass_command_parses_with_the_real_cli(where: str, arguments: list[str]) -> None:
    run_cli(arguments)  # raises on an unknown subcommand or option, or a bad value


@pytest.mark.parametrize("container", CONTAINERS, ids=[c.where for c in CONTAINERS])
def test_each_container_runs_with_a_mounted_valid_config_and_its_secrets(
    container: Container, tmp_path: Path
) -> None:
    _command, params = run_cli(container.arguments)
    config_path = str(params["config"])
    assert config_path == CONFIG_PATH and config_path in container.config_files
    text = container.config_files[config_path]
    settings = load_with_secrets(text, container.secrets_folder, tmp_path)
    assert settings.unavailable == []
    assert settings.config.server.port == PORT
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'gatepass.db'}"
    wanted = secret_files(parse_config(yaml.safe_load(text)))
    assert wanted <= container.mounted_secrets, f"{container.where}: secrets not mounted"
    assert params.get("port") in (None, PORT)


@pytest.mark.parametrize("container", CONTAINERS, ids=[c.where for c in CONTAINERS])
def test_each_container_sets_only_variables_gatepass_reads(container: Container) -> None:
    config = parse_config(yaml.safe_load(container.config_files[CONFIG_PATH]))
    read = variables_read(config)
    assert container.environment <= read, f"{container.where}: {container.environment - read}"
    referenced = read - {CONFIG_ENV, DATABASE_URL_ENV}
    assert referenced <= container.environment, f"{container.where}: not set: {referenced}"


def test_the_kubernetes_secret_example_holds_exactly_the_files_the_config_names() -> None:
    objects = {(d["kind"], d["metadata"]["name"]): d for _, d in kubernetes_objects()}
    (config_map,) = [d for (kind, _), d in objects.items() if kind == "ConfigMap"]
    config = parse_config(yaml.safe_load(config_map["data"]["gatepass.yml"]))
    (secret,) = [d for (kind, _), d in objects.items() if kind == "Secret"]
    files = {f"/run/secrets/gatepass/{key}" for key in secret["stringData"]}
    assert secret_files(config) == files


def test_the_image_sets_only_the_config_variable_and_the_interpreter_s() -> None:
    variables: dict[str, str] = {}
    for env in instructions("ENV"):
        for word in exec_form(env.arguments):
            name, _, value = word.partition("=")
            variables[name] = value
    assert set(variables) <= {CONFIG_ENV, DATABASE_URL_ENV} | INTERPRETER_VARIABLES
    assert variables[CONFIG_ENV] == CONFIG_PATH


def test_every_port_is_the_server_port() -> None:
    assert [int(e.arguments) for e in instructions("EXPOSE")] == [PORT]
    assert healthcheck_url()[0] == PORT
    for container in CONTAINERS:
        assert container.ports <= {PORT}, container.where
        assert all(port == PORT for _path, port in container.http), container.where
    for _path, doc in kubernetes_objects():
        if doc["kind"] == "Service":
            for port in doc["spec"]["ports"]:
                assert port["port"] == PORT and port["targetPort"] == "http"
    assert load_config(DEPLOY / "gatepass.compose.yml").server.port == PORT


async def test_every_http_path_is_a_route_of_the_app(tmp_path: Path) -> None:
    (serve,) = [c for c in CONTAINERS if c.where == "compose service serve"]
    settings = load_with_secrets(serve.config_files[CONFIG_PATH], serve.secrets_folder, tmp_path)
    gatepass = await build(settings, integrations={}, run_worker=False)
    try:
        routes = {r.resource.canonical for r in gatepass.web.router.routes() if r.resource}
    finally:
        await gatepass.close()
    assert {"/healthz", "/readyz", "/metrics", "/slack/events", "/api/messages"} <= routes
    paths = {healthcheck_url()[1]} | {path for c in CONTAINERS for path, _port in c.http}
    assert paths <= routes
