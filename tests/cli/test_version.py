"""`gatepass --version` prints the installed package's version."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from tests.cli.conftest import ROOT


def test_version_prints_the_package_version_and_exits_zero() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"gatepass {version}\n"
    assert result.stderr == ""
