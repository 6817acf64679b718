"""Secret references (``env:NAME``, ``file:PATH``) and the values they resolve to.

A reference is validated when the config loads; it is resolved once at start. A value that is
missing (an unset variable, an unreadable file) is reported by the reference's own words so the
operator knows exactly what to set, and the component that needs it is left out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_ENV_NAME_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


class SecretValue:
    """A resolved secret. Its repr and str never show the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretValue('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretValue) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SecretUnavailable(Exception):
    """A reference that could not be resolved; ``source`` names the variable or file."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


@dataclass(frozen=True)
class SecretRef:
    """``env:NAME`` or ``file:PATH``."""

    scheme: str
    target: str

    @classmethod
    def parse(cls, text: object) -> SecretRef:
        if not isinstance(text, str):
            raise ValueError("a secret reference is a string 'env:NAME' or 'file:PATH'")
        scheme, sep, target = text.partition(":")
        if not sep or scheme not in ("env", "file"):
            # The value is not echoed: it may be a secret pasted by mistake.
            raise ValueError(
                "is not a secret reference: write 'env:NAME' or 'file:PATH' "
                "(a secret itself is never written into the config file)"
            )
        if not target:
            raise ValueError(f"{text!r} names no {'variable' if scheme == 'env' else 'file'}")
        if scheme == "env" and (set(target) - _ENV_NAME_CHARS or target[0].isdigit()):
            raise ValueError(f"{target!r} is not an environment variable name")
        return cls(scheme, target)

    @property
    def source(self) -> str:
        """How an operator refers to it: ``variable SLACK_BOT_TOKEN`` or ``file /run/x``."""
        return f"variable {self.target}" if self.scheme == "env" else f"file {self.target}"

    def __str__(self) -> str:
        return f"{self.scheme}:{self.target}"

    def resolve_text(self, environ: Mapping[str, str]) -> str:
        if self.scheme == "env":
            value = environ.get(self.target, "")
            if not value.strip():
                raise SecretUnavailable(self.source, "not set")
            return value.strip()
        path = Path(self.target)
        try:
            value = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SecretUnavailable(self.source, "does not exist") from None
        except OSError as error:
            raise SecretUnavailable(self.source, f"cannot be read ({error.strerror})") from None
        if not value.strip():
            raise SecretUnavailable(self.source, "is empty")
        return value.strip()

    def resolve(self, environ: Mapping[str, str]) -> SecretValue:
        return SecretValue(self.resolve_text(environ))

    def resolve_mapping(self, environ: Mapping[str, str]) -> dict[str, SecretValue]:
        """A reference whose content is a JSON object of strings (an Atlas key file)."""
        text = self.resolve_text(environ)
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise SecretUnavailable(self.source, "is not a JSON object") from None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise SecretUnavailable(self.source, "must hold a JSON object of strings")
        return {key: SecretValue(value) for key, value in data.items()}
