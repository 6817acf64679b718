"""Reading the deployment files as a container runtime would, and checking what they name
against the product itself: the CLI (typer), the config loader and the settings."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
import yaml
from cryptography.fernet import Fernet
from pydantic import BaseModel

from bot.cli import app as cli_app
from core.config.schema import GatepassConfig, load_config
from core.config.secrets import SecretRef
from core.config.settings import CONFIG_ENV, DATABASE_URL_ENV, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = DEPLOY / "compose.yml"
KUBERNETES = DEPLOY / "kubernetes"
PORT = 3978  # server.port of every deployment config
CONFIG_PATH = "/etc/gatepass/gatepass.yml"  # where every container finds its config


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def dockerfile(path: Path = DOCKERFILE) -> list[Instruction]:
    """Instructions, continuation lines joined; comments and the syntax directive skipped."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, f"{path}: the last instruction ends with a continuation"
    return instructions


def exec_form(arguments: str) -> list[str]:
    """A JSON array (exec form) or a shell line split into words."""
    if arguments.startswith("["):
        words = json.loads(arguments)
        assert all(isinstance(w, str) for w in words), arguments
        return list(words)
    return shlex.split(arguments)


def gatepass_calls(words: list[str]) -> Iterator[list[str]]:
    """The arguments of every ``gatepass`` run in a command line (shell ``&&`` included)."""
    segment: list[str] = []
    for word in [*words, "&&"]:
        if word in ("&&", "||", ";"):
            if segment and (segment[0] == "gatepass" or segment[0].endswith("/gatepass")):
                yield segment[1:]
            segment = []
        else:
            segment.append(word)


def run_cli(arguments: list[str]) -> tuple[str, dict[str, Any]]:
    """Parse the arguments exactly as ``gatepass`` does (unknown command or option: an error).

    Returns the command's name ("db upgrade") and its parsed parameters; nothing is run.
    """
    command: Any = typer.main.get_command(cli_app)
    path: list[str] = []
    rest = list(arguments)
    while hasattr(command, "commands"):
        if rest and rest[0].startswith("-"):  # an option of the group itself, e.g. --version
            known = {opt for param in command.params for opt in param.opts}
            assert rest[0] in known, f"gatepass {' '.join(path)}: no option {rest[0]}"
            return " ".join(path), {}
        assert rest, f"gatepass {' '.join(path)}: names no subcommand"
        name, *rest = rest
        assert name in command.commands, f"gatepass {' '.join(path)}: no subcommand {name!r}"
        command = command.commands[name]
        path.append(name)
    context = command.make_context(" ".join(["gatepass", *path]), rest)
    return " ".join(path), dict(context.params)


def yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def kubernetes_objects() -> list[tuple[Path, dict[str, Any]]]:
    return [(p, doc) for p in sorted(KUBERNETES.glob("*.yml")) for doc in yaml_documents(p)]


def secret_refs(node: Any) -> Iterator[SecretRef]:
    """Every secret reference in a loaded config (or a part of it)."""
    if isinstance(node, SecretRef):
        yield node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from secret_refs(getattr(node, name))
    elif isinstance(node, dict):
        for value in node.values():
            yield from secret_refs(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from secret_refs(value)


def all_refs(config: GatepassConfig) -> list[SecretRef]:
    refs = list(secret_refs(config))
    if config.database_url.startswith(("env:", "file:")):
        refs.append(SecretRef.parse(config.database_url))
    return refs


def variables_read(config: GatepassConfig) -> set[str]:
    """The environment variables Gatepass reads when it runs with this config."""
    return {CONFIG_ENV, DATABASE_URL_ENV} | {
        r.target for r in all_refs(config) if r.scheme == "env"
    }


def secret_files(config: GatepassConfig) -> set[str]:
    return {r.target for r in all_refs(config) if r.scheme == "file"}


def sample_secret(name: str, database_url: str) -> str:
    """A well-formed value for a secret file, by its name."""
    if "database-url" in name:
        return database_url
    if "encryption-key" in name:
        return Fernet.generate_key().decode()
    if name.endswith(".json"):
        return json.dumps({"public_key": "abcdefgh", "private_key": "0000-1111"})
    return "test-value"


def load_with_secrets(config_text: str, secrets_folder: str, tmp: Path) -> Settings:
    """Load a deployment config with the real loader, its secret files made under ``tmp``
    (in place of ``secrets_folder``), its variables set, and a SQLite database there."""
    path = tmp / "gatepass.yml"
    path.write_text(config_text.replace(secrets_folder, f"{tmp / 'secrets'}/"))
    config = load_config(path)
    (tmp / "secrets").mkdir(exist_ok=True)
    for target in secret_files(config):
        file = Path(target)
        assert file.parent == tmp / "secrets", f"{target}: not under {secrets_folder}"
        file.write_text(sample_secret(file.name, f"sqlite+aiosqlite:///{tmp / 'gatepass.db'}"))
    environ = {
        r.target: "00000000-0000-0000-0000-000000000001"
        for r in all_refs(config)
        if r.scheme == "env"
    }
    return load_settings(path, environ)


HTTP_URL = re.compile(r"http://[^/:'\"]+:(?P<port>\d+)(?P<path>/[^'\" ]*)")


@dataclass(frozen=True)
class Container:
    """One Gatepass container of a compose file or a Kubernetes manifest."""

    where: str
    arguments: list[str]
    environment: set[str]
    config_files: dict[str, str]  # path in the container -> the config's text
    secrets_folder: str
    mounted_secrets: set[str]
    ports: set[int]
    http: list[tuple[str, int]]  # (path, port) of each HTTP probe


def compose_containers() -> list[Container]:
    compose = yaml.safe_load(COMPOSE.read_text())
    found = []
    for name, service in compose["services"].items():
        if not str(service.get("image", "")).startswith("gatepass:"):
            continue
        assert "entrypoint" not in service, f"{name}: the image's entrypoint is gatepass"
        configs = {
            mount["target"]: (DEPLOY / compose["configs"][mount["source"]]["file"]).read_text()
            for mount in service["configs"]
        }
        secrets = [s if isinstance(s, str) else s["source"] for s in service["secrets"]]
        assert set(secrets) <= set(compose["secrets"]), f"{name}: undefined secrets"
        ports = {int(str(p).rsplit(":", 1)[-1].split("/")[0]) for p in service.get("ports", [])}
        found.append(
            Container(
                where=f"compose service {name}",
                arguments=list(service["command"]),
                environment=set(service.get("environment", {})),
                config_files=configs,
                secrets_folder="/run/secrets/",
                mounted_secrets={f"/run/secrets/{s}" for s in secrets},
                ports=ports,
                http=[],
            )
        )
    return found


def _pod_mounts(
    container: dict[str, Any], pod: dict[str, Any], objects: dict[tuple[str, str], Any]
) -> tuple[dict[str, str], str, set[str]]:
    """The config files and the secret files a Kubernetes container sees."""
    volumes = {v["name"]: v for v in pod["volumes"]}
    configs: dict[str, str] = {}
    secrets_folder, secrets = "", set()
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        if "configMap" in volume:
            data = objects["ConfigMap", volume["configMap"]["name"]]["data"]
            configs |= {f"{mount['mountPath']}/{key}": text for key, text in data.items()}
        elif "secret" in volume:
            secret = objects["Secret", volume["secret"]["secretName"]]
            secrets_folder = mount["mountPath"] + "/"
            secrets = {secrets_folder + key for key in secret["stringData"]}
    return configs, secrets_folder, secrets


def kubernetes_containers() -> list[Container]:
    objects = {(doc["kind"], doc["metadata"]["name"]): doc for _, doc in kubernetes_objects()}
    found = []
    for (kind, name), doc in objects.items():
        if kind not in ("Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        for container in pod["containers"]:
            assert container["command"] == ["gatepass"], f"{name}: runs gatepass"
            named = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
            probes = [container[k] for k in ("livenessProbe", "readinessProbe") if k in container]
            configs, folder, secrets = _pod_mounts(container, pod, objects)
            found.append(
                Container(
                    where=f"kubernetes {kind} {name}",
                    arguments=list(container["args"]),
                    environment={e["name"] for e in container.get("env", [])},
                    config_files=configs,
                    secrets_folder=folder,
                    mounted_secrets=secrets,
                    ports=set(named.values()),
                    http=[
                        (
                            p["httpGet"]["path"],
                            named.get(p["httpGet"]["port"], p["httpGet"]["port"]),
                        )
                        for p in probes
                    ],
                )
            )
    return found


CONTAINERS = compose_containers() + kubernetes_containers()
INSTRUCTIONS = dockerfile()


def instructions(keyword: str) -> list[Instruction]:
    return [i for i in INSTRUCTIONS if i.keyword == keyword]


def final_stage() -> list[Instruction]:
    starts = [n for n, i in enumerate(INSTRUCTIONS) if i.keyword == "FROM"]
    return INSTRUCTIONS[starts[-1] :]


def dockerfile_commands() -> list[tuple[str, list[str]]]:
    (entrypoint,) = instructions("ENTRYPOINT")
    (cmd,) = instructions("CMD")
    assert exec_form(entrypoint.arguments) == ["gatepass"]
    found = [("Dockerfile ENTRYPOINT and CMD", exec_form(cmd.arguments))]
    for run in instructions("RUN"):
        found += [("Dockerfile RUN", call) for call in gatepass_calls(exec_form(run.arguments))]
    return found


def healthcheck_url() -> tuple[int, str]:
    (check,) = instructions("HEALTHCHECK")
    _options, _, command = check.arguments.partition(" CMD ")
    match = HTTP_URL.search(" ".join(exec_form(command)))
    assert match, check.arguments
    return int(match["port"]), match["path"]
