"""Logging: plain text or one JSON object a line, with what the line is about.

``log_format: json`` (config) writes each record as JSON with python-json-logger, carrying the
request id, job id and kind, platform and integration of the work in hand, from context
variables set where that work starts (the web middleware, a Socket Mode envelope, the worker
claiming a job). Every secret Gatepass resolved at start is registered with :func:`redact` and
replaced by ``[redacted]`` in every line, whatever the format: a token or key that slips into a
message or an exception never reaches the log.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Final, Literal

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["json", "text"]
FIELDS: Final = ("request_id", "job_id", "job_kind", "platform", "integration")
REDACTED: Final = "[redacted]"
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MIN_SECRET_LENGTH: Final = 6  # shorter values would blank out ordinary words

_context: dict[str, contextvars.ContextVar[str | None]] = {
    name: contextvars.ContextVar(f"gatepass_{name}", default=None) for name in FIELDS
}
_secrets: set[str] = set()


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def current() -> dict[str, str]:
    """The fields set for the work in hand (only those that are set)."""
    found = {name: var.get() for name, var in _context.items()}
    return {name: value for name, value in found.items() if value is not None}


def bind(**fields: object) -> None:
    """Set fields for the rest of the current task (each asyncio task has its own copy)."""
    for name, value in fields.items():
        _context[name].set(None if value is None else str(value))


@contextmanager
def bound(**fields: object) -> Iterator[None]:
    """Set fields for the block, then put back what was there."""
    tokens = [
        (_context[name], _context[name].set(None if value is None else str(value)))
        for name, value in fields.items()
    ]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def redact(values: Iterable[str]) -> None:
    """Never write these values (secrets resolved at start) to any log line."""
    _secrets.update(v for v in values if v and len(v) >= MIN_SECRET_LENGTH)


def scrub(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class ContextFilter(logging.Filter):
    """Puts the context fields on each record (as attributes the formatters read)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in current().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(f"{n}={getattr(record, n)}" for n in FIELDS if hasattr(record, n))
        return scrub(f"{line} [{extras}]" if extras else line)


class JsonLineFormatter(JsonFormatter):
    """One JSON object a line: time, level, logger, message, the context fields, and the
    exception (formatted) when there is one."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        for name in FIELDS:
            if hasattr(record, name):
                log_data[name] = getattr(record, name)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonLineFormatter() if log_format == "json" else TextFormatter(TEXT_FORMAT)


def handler(log_format: LogFormat, stream: Any = None) -> logging.Handler:
    """A stream handler (stderr by default) with the format, the context and the redaction."""
    made = logging.StreamHandler(stream or sys.stderr)
    made.setFormatter(formatter(log_format))
    made.addFilter(ContextFilter())
    return made


def configure(log_format: LogFormat, *, level: int = logging.INFO) -> None:
    """Replace the root logger's handlers with one in ``log_format`` (``serve``, ``worker``)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(log_format))
    root.setLevel(level)
    logging.captureWarnings(True)
