"""The lock files match pyproject.toml: every dependency is pinned there with its hashes, the test
lock pins the runtime packages to the same versions, and the runtime lock holds no test tool.
After a change to the dependencies in pyproject.toml, `make lock` brings them back in line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")
TEST_TOOLS = {"pytest", "pytest-asyncio", "ruff", "mypy", "types-pyyaml", "jsonschema", "regex"}


def pins(name: str) -> dict[str, str]:
    """Package -> version; every pin is followed by at least one hash."""
    found: dict[str, str] = {}
    current = None
    hashed: set[str] = set()
    for line in (ROOT / name).read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match["name"])
            found[current] = match["version"]
        elif current and line.strip().startswith("--hash=sha256:"):
            hashed.add(current)
    assert set(found) == hashed, f"{name}: pins without a hash: {set(found) - hashed}"
    return found


def requirements(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(text) for text in listed]


def assert_satisfied(wanted: list[Requirement], pinned: dict[str, str], lock: str) -> None:
    for requirement in wanted:
        version = pinned.get(canonicalize_name(requirement.name))
        assert version is not None, f"{lock}: {requirement.name} is not pinned; run make lock"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock}: {requirement.name}=={version} does not satisfy {requirement}; run make lock"
        )


def test_the_runtime_lock_pins_every_dependency_and_no_test_tool() -> None:
    runtime = pins("requirements.lock")
    assert_satisfied(requirements(), runtime, "requirements.lock")
    assert TEST_TOOLS.isdisjoint(runtime)


def test_the_test_lock_adds_the_test_tools_at_the_runtime_versions() -> None:
    runtime, test = pins("requirements.lock"), pins("requirements-test.lock")
    assert_satisfied(requirements() + requirements("test"), test, "requirements-test.lock")
    assert {name: test.get(name) for name in runtime} == runtime
    assert {"mypy", "types-pyyaml"} <= set(test)
