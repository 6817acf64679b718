"""Each way Gatepass cannot start or run ends in one line naming the cause and what to do, exit
1 and no traceback: from `serve`, `worker` and every command that reads the database, run as
real processes. An unreachable database (PostgreSQL refusing connections, a SQLite file that
cannot be opened), an unsupported database_url, a port in use, an unreadable config."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import EXAMPLE, ROOT
from tests.cli.test_serve import free_port

pytestmark = pytest.mark.slow

DATABASE_COMMANDS = [
    ["serve"],
    ["worker"],
    ["db", "upgrade"],
    ["requests", "list"],
    ["requests", "show", "gp-123"],
    ["requests", "revoke", "gp-123", "--reason", "drill"],
    ["audit", "export"],
    ["audit", "verify"],
    ["sync"],
    ["resources", "list"],
    [
        "approvers-for",
        "--requester=alice@example.com",
        "--integration=prod-atlas",
        "--resource=database:analytics",
        "--permission=read",
    ],
]
CONFIG_COMMANDS = [["check-config"], ["serve"], ["worker"], ["requests", "list"]]


def environment(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "TEAMS_", "ATLAS_", "GATEPASS_"))
    }
    return env | {"PYTHONPATH": str(ROOT), **extra}


def write_config(tmp_path: Path, database_url: str, port: int | None = None) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["database_url"] = database_url
    data["encryption_key"] = "env:GATEPASS_ENCRYPTION_KEY"
    data["server"] = {"host": "127.0.0.1", "port": port or free_port()}
    path = tmp_path / "gatepass.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_all(
    commands: list[list[str]], config: Path, env: dict[str, str]
) -> list[subprocess.CompletedProcess[str]]:
    """Every command at once (each is a fresh interpreter), each given 60 s."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *command, "--config", str(config)],
            cwd=config.parent,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    done = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return done


def assert_one_line(done: subprocess.CompletedProcess[str], *, last_only: bool = False) -> str:
    where = " ".join(done.args[3:])
    assert done.returncode == 1, (where, done.stdout, done.stderr)
    assert "Traceback" not in done.stdout + done.stderr, where
    lines = done.stderr.strip().splitlines()
    if not last_only:
        assert len(lines) == 1 and not done.stdout.strip(), (where, done.stdout, done.stderr)
    return lines[-1]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on (held bound, never listening, for the test)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


def test_an_unreachable_postgresql_is_one_line_from_every_command(
    tmp_path: Path, closed_port: int, encryption_key: str
) -> None:
    url = f"postgresql+psycopg://gatepass:s3cret-pw@127.0.0.1:{closed_port}/gatepass"
    config = write_config(tmp_path, url)
    env = environment(GATEPASS_ENCRYPTION_KEY=encryption_key)
    for done in run_all(DATABASE_COMMANDS, config, env):
        line = assert_one_line(done)
        assert line.startswith(
            f"gatepass: cannot reach the database postgresql+psycopg://gatepass:***@127.0.0.1:"
            f"{closed_port}/gatepass: connection failed: "
        ), line
        assert "Connection refused" in line and "s3cret-pw" not in line
        assert line.endswith(
            f"check database_url in {config} (or GATEPASS_DATABASE_URL) and that the database "
            "server is running and accepts this user"
        ), line


def test_a_sqlite_file_that_cannot_be_opened_is_one_line(
    tmp_path: Path, encryption_key: str
) -> None:
    (tmp_path / "not-a-folder").write_text("")
    path = tmp_path / "not-a-folder" / "gatepass.db"
    config = write_config(tmp_path, f"sqlite+aiosqlite:///{path}")
    env = environment(GATEPASS_ENCRYPTION_KEY=encryption_key)
    keyless = tmp_path / "keyless.yml"  # the key file beside the database cannot be made either
    data = yaml.safe_load(config.read_text())
    del data["encryption_key"]
    keyless.write_text(yaml.safe_dump(data))
    for where in (config, keyless):
        for done in run_all([["serve"], ["db", "upgrade"]], where, env):
            assert assert_one_line(done) == (
                f"gatepass: cannot open the database {path}: unable to open database file: "
                "check that its folder exists and that this user may read and write it "
                f"(database_url in {where})"
            )


def test_an_unsupported_database_url_is_one_line(tmp_path: Path, encryption_key: str) -> None:
    config = write_config(tmp_path, "mysql://root:pw@localhost/gatepass")
    env = environment(GATEPASS_ENCRYPTION_KEY=encryption_key)
    expected = (
        f"{config}: database_url: mysql://… is not a supported database: use "
        "sqlite+aiosqlite:///PATH (one machine) or postgresql+psycopg://USER@HOST:5432/DATABASE"
    )
    for done in run_all([*CONFIG_COMMANDS, ["check-config", "--schema-only"]], config, env):
        assert assert_one_line(done) == expected
    good = write_config(tmp_path, "sqlite+aiosqlite:///gp.db")
    from_env = env | {"GATEPASS_DATABASE_URL": "postgresql://postgres@127.0.0.1/gatepass"}
    (done,) = run_all([["requests", "list"]], good, from_env)
    assert assert_one_line(done) == (
        f"{good}: GATEPASS_DATABASE_URL: postgresql://… is not a supported database: use "
        "sqlite+aiosqlite:///PATH (one machine) or postgresql+psycopg://USER@HOST:5432/DATABASE"
    )


def test_a_port_in_use_is_one_line(tmp_path: Path, encryption_key: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'gp.db'}", port=port)
        data = yaml.safe_load(config.read_text())
        data["server"]["port"] = free_port()
        data["server"]["metrics"] = {"host": "127.0.0.1", "port": port}
        metrics_config = tmp_path / "metrics.yml"
        metrics_config.write_text(yaml.safe_dump(data))
        env = environment(GATEPASS_ENCRYPTION_KEY=encryption_key)
        (serve,) = run_all([["serve"]], config, env)
        on_metrics = run_all([["serve"], ["worker"]], metrics_config, env)
    assert assert_one_line(serve, last_only=True) == (
        f"gatepass: cannot listen on 127.0.0.1:{port} (serve): the address is already in use: "
        f"stop what holds it, or choose another port (server.port or --port in {config})"
    )
    for done in on_metrics:
        assert assert_one_line(done, last_only=True) == (
            f"gatepass: cannot listen on 127.0.0.1:{port} (metrics): the address is already in "
            f"use: stop what holds it, or choose another port (server.metrics.port in "
            f"{metrics_config})"
        )


def test_an_unreadable_config_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "gatepass.yml"
    folder.mkdir()  # a folder where the file should be: unreadable as a file, even for root
    for done in run_all(CONFIG_COMMANDS, folder, environment()):
        assert assert_one_line(done) == (
            f"{folder}: cannot read the file (Is a directory): check the path and that this "
            "user may read it, or name another with --config or GATEPASS_CONFIG"
        )
    binary = tmp_path / "binary.yml"
    binary.write_bytes(b"database_url: \xff\xfe\n")
    (done,) = run_all([["serve"]], binary, environment())
    assert assert_one_line(done) == (
        f"{binary}: the file is not UTF-8 text (byte 14): save it as UTF-8"
    )
