"""Atlas's wire habits, for the fake: error bodies, HTTP Digest (realm "MMS Public API", MD5,
qop=auth), OAuth2 client credentials, and ``{links, results, totalCount}`` pages."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.atlas_spec.contract import recorded

REALM: Final = "MMS Public API"
MAX_ITEMS_PER_PAGE: Final = 500
_REASONS: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


class ApiError(Exception):
    """An Atlas error answer: ``{error, errorCode, detail, reason, parameters}``."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        parameters: Sequence[Any] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.parameters = list(parameters)
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        body = {
            "detail": self.detail,
            "error": self.status,
            "errorCode": self.code,
            "parameters": self.parameters,
            "reason": _REASONS.get(self.status, "Error"),
        }
        return web.Response(
            status=self.status,
            text=json.dumps(body),
            content_type="application/json",
            headers={"X-Error-Code": self.code, **self.headers},
        )


# --------------------------------------------------------------------------- HTTP Digest


def challenge(nonce: str) -> web.Response:
    """Atlas's recorded 401: the Digest challenge, with its JSON body."""
    sample = recorded("digest_challenge_401.http")
    header = (
        f'Digest realm="{REALM}", domain="", nonce="{nonce}", algorithm=MD5, qop="auth", '
        "stale=false"
    )
    return web.Response(
        status=401,
        text=json.dumps(sample.body),
        content_type="application/json",
        headers={"WWW-Authenticate": header},
    )


_PAIR = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]*))')


def digest_fields(header: str) -> dict[str, str]:
    return {key: quoted or bare for key, quoted, bare in _PAIR.findall(header)}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def digest_valid(
    fields: Mapping[str, str], *, method: str, uri: str, keys: Mapping[str, str], nonces: set[str]
) -> bool:
    """True when ``fields`` (an ``Authorization: Digest`` header) proves a known key pair."""
    private = keys.get(fields.get("username", ""))
    if private is None or fields.get("realm") != REALM or fields.get("nonce") not in nonces:
        return False
    if fields.get("uri") != uri or fields.get("qop") != "auth":
        return False
    ha1 = _md5(f"{fields['username']}:{REALM}:{private}")
    ha2 = _md5(f"{method}:{uri}")
    expected = _md5(
        f"{ha1}:{fields['nonce']}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:auth:{ha2}"
    )
    return secrets.compare_digest(expected, fields.get("response", ""))


def basic_credentials(header: str) -> tuple[str, str] | None:
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return user, password


# --------------------------------------------------------------------------- pages


def page(items: Sequence[Any], *, query: Mapping[str, str], self_url: str) -> dict[str, Any]:
    """One page of ``items`` as Atlas shapes it, with ``next`` when more remain."""
    try:
        number = int(query.get("pageNum", "1"))
        size = int(query.get("itemsPerPage", "100"))
    except ValueError:
        raise ApiError(400, "INVALID_QUERY_PARAMETER", "Invalid query parameter pageNum.") from None
    if not 1 <= size <= MAX_ITEMS_PER_PAGE or number < 1:
        raise ApiError(
            400,
            "INVALID_QUERY_PARAMETER",
            "Invalid query parameter itemsPerPage specified.",
            parameters=["itemsPerPage"],
        )
    start = (number - 1) * size
    others = {k: v for k, v in query.items() if k not in ("pageNum", "itemsPerPage")}

    def link(rel: str, target: int) -> dict[str, str]:
        params = urlencode({**others, "pageNum": target, "itemsPerPage": size})
        return {"href": f"{self_url}?{params}", "rel": rel}

    links = [link("self", number)]
    if number > 1:
        links.insert(0, link("previous", number - 1))
    if start + size < len(items):
        links.append(link("next", number + 1))
    body: dict[str, Any] = {"links": links, "results": list(items[start : start + size])}
    if query.get("includeCount", "true") != "false":
        body["totalCount"] = len(items)
    return body
