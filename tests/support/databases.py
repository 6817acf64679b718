"""Databases for tests: a SQLite file per test, and a real PostgreSQL database per session.

PostgreSQL tests read ``GATEPASS_TEST_POSTGRES_URL`` and skip when it cannot be reached, unless
``GATEPASS_REQUIRE_POSTGRES=1`` (as CI sets), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import secrets

import psycopg
import pytest
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_base_url() -> str:
    return os.environ.get("GATEPASS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def unavailable(reason: str) -> None:
    if os.environ.get("GATEPASS_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required (GATEPASS_REQUIRE_POSTGRES=1) but {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


def create_database() -> str:
    """A fresh, empty database on the test server; returns its SQLAlchemy URL."""
    base = postgres_base_url()
    name = f"gatepass_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(_libpq(base), autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        unavailable(f"{base}: {error}")
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(
        _libpq(postgres_base_url()), autocommit=True, connect_timeout=5
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


TABLES = (
    "audit_events",
    "audit_head",
    "decisions",
    "request_approvers",
    "posted_messages",
    "grants",
    "integration_accounts",
    "chat_accounts",
    "resources",
    "jobs",
    "requests",
    "seen_deliveries",
    "directory_users",
    "directory_groups",
    "directory_members",
    "directory_state",
    "workers",
    "chat_channels",
    "break_glass_uses",
    "webhook_deliveries",
    "atlas_memberships",
)


def truncate_all(url: str) -> None:
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute("TRUNCATE " + ", ".join(TABLES) + " RESTART IDENTITY CASCADE")
