"""The ``/scim/v2`` routes: authenticate, parse with ``bot.scim.documents``, call the
provisioning use cases, render. Every refusal is a SCIM error body with its status."""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from scim2_models import (
    EnterpriseUser,
    Error,
    Group,
    ResponseParameters,
    SCIMException,
    ScimFilter,
)

from bot.scim import discovery
from bot.scim.documents import (
    LIST_SCHEMA,
    ScimUser,
    dump,
    etag,
    group_input,
    group_model,
    parse_group,
    parse_user,
    patch_group,
    patch_user,
    user_input,
    user_model,
    version_of,
)
from core.context import Context
from core.use_cases import directory_listing, group_provisioning, user_provisioning
from core.use_cases.provisioning import ProvisioningError

log = logging.getLogger("gatepass.scim")
BASE = "/scim/v2"
MEDIA = "application/scim+json"
MAX_COUNT = 1000
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FAST_USER = re.compile(r'^\s*(userName|externalId)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.I)
FAST_GROUP = re.compile(r'^\s*(displayName|externalId)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.I)


def scim_json(body: Any, *, status: int = 200, version: int | None = None) -> web.Response:
    response = web.json_response(body, status=status, content_type=MEDIA)
    if version is not None:
        response.headers["ETag"] = etag(version)
    return response


def error(status: int, detail: str, scim_type: str | None = None) -> web.Response:
    body = Error(status=status, scim_type=scim_type, detail=detail).model_dump()
    return web.json_response(body, status=status, content_type=MEDIA)


def _from_validation(problem: ValidationError) -> web.Response:
    errors = Error.from_validation_errors(problem)
    first = errors[0] if errors else Error(status=400, detail=str(problem))
    status = int(first.status or 400)
    return error(status, "; ".join(e.detail or "" for e in errors)[:1000], first.scim_type)


class Scim:
    """The handlers, holding the domain context and the expected token."""

    def __init__(self, ctx: Context, token: bytes) -> None:
        self.ctx = ctx
        self._token = token

    def _base(self, request: web.Request) -> str:
        return f"{request.scheme}://{request.host}{BASE}"

    def guarded(self, handler: Handler) -> Handler:
        async def run(request: web.Request) -> web.StreamResponse:
            header = request.headers.get("Authorization", "")
            scheme, _, presented = header.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                presented.strip().encode(), self._token
            ):
                response = error(401, "a valid bearer token is required")
                response.headers["WWW-Authenticate"] = 'Bearer realm="gatepass-scim"'
                return response
            try:
                return await handler(request)
            except ProvisioningError as refused:
                return error(refused.status, refused.detail, refused.scim_type)
            except SCIMException as refused:
                return error(refused.status, refused.detail, refused.scim_type or None)
            except ValidationError as refused:
                return _from_validation(refused)

        return run

    async def _body(self, request: web.Request) -> Any:
        try:
            return json.loads(await request.text())
        except (json.JSONDecodeError, UnicodeDecodeError) as bad:
            raise ProvisioningErrorSyntax(f"the body is not valid JSON: {bad}") from None

    def _parameters(self, request: web.Request, model: Any) -> ResponseParameters[Any] | None:
        attributes = request.query.get("attributes")
        excluded = request.query.get("excludedAttributes")
        if not attributes and not excluded:
            return None
        return ResponseParameters[model].model_validate(  # type: ignore[valid-type]
            {
                "attributes": attributes.split(",") if attributes else None,
                "excludedAttributes": excluded.split(",") if excluded else None,
            }
        )

    def _page(self, request: web.Request) -> tuple[int, int]:
        try:
            start = max(1, int(request.query.get("startIndex", "1")))
            count = max(0, min(MAX_COUNT, int(request.query.get("count", "100"))))
        except ValueError:
            raise ProvisioningError("startIndex and count must be integers") from None
        return start, count

    def _listed(self, request: web.Request, models: list[Any], model: Any) -> web.Response:
        start, count = self._page(request)
        parameters = self._parameters(request, model)
        page = models[start - 1 : start - 1 + count]
        return scim_json(
            {
                "schemas": [LIST_SCHEMA],
                "totalResults": len(models),
                "startIndex": start,
                "itemsPerPage": len(page),
                "Resources": [dump(m, parameters) for m in page],
            }
        )

    # ---------------------------------------------------------------- Users

    async def list_users(self, request: web.Request) -> web.StreamResponse:
        text = request.query.get("filter")
        compiled = ScimFilter[ScimUser](text) if text else None
        fast = FAST_USER.match(text) if text else None
        if fast is not None:
            key = {"username": "user_name", "externalid": "external_id"}[fast.group(1).lower()]
            value = json.loads(f'"{fast.group(2)}"')
            records = await directory_listing.list_users(self.ctx, **{key: value})
        else:
            records = await directory_listing.list_users(self.ctx)
        base = self._base(request)
        models = [user_model(r, base) for r in records]
        if compiled is not None:
            models = [m for m in models if compiled.match(m)]
        return self._listed(request, models, ScimUser)

    async def create_user(self, request: web.Request) -> web.StreamResponse:
        data = user_input(parse_user(await self._body(request)))
        record = await user_provisioning.create_user(self.ctx, data)
        model = user_model(record, self._base(request))
        response = scim_json(dump(model), status=201, version=record.row.version)
        response.headers["Location"] = str(model.meta.location if model.meta else "")
        return response

    async def get_user(self, request: web.Request) -> web.StreamResponse:
        record = await directory_listing.get_user(self.ctx, request.match_info["id"])
        model = user_model(record, self._base(request))
        return scim_json(
            dump(model, self._parameters(request, ScimUser)), version=record.row.version
        )

    async def replace_user(self, request: web.Request) -> web.StreamResponse:
        data = user_input(parse_user(await self._body(request)))
        record = await user_provisioning.replace_user(
            self.ctx,
            request.match_info["id"],
            data,
            expected_version=version_of(request.headers.get("If-Match")),
        )
        return scim_json(dump(user_model(record, self._base(request))), version=record.row.version)

    async def patch_user(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        current = await directory_listing.get_user(self.ctx, request.match_info["id"])
        expected = version_of(request.headers.get("If-Match"))
        patched = patch_user(current, self._base(request), body)
        record = await user_provisioning.replace_user(
            self.ctx,
            current.row.id,
            user_input(patched),
            expected_version=expected if expected is not None else current.row.version,
        )
        return scim_json(dump(user_model(record, self._base(request))), version=record.row.version)

    async def delete_user(self, request: web.Request) -> web.StreamResponse:
        await user_provisioning.delete_user(self.ctx, request.match_info["id"])
        return web.Response(status=204)

    # ---------------------------------------------------------------- Groups

    async def list_groups(self, request: web.Request) -> web.StreamResponse:
        text = request.query.get("filter")
        compiled = ScimFilter[Group](text) if text else None
        fast = FAST_GROUP.match(text) if text else None
        if fast is not None and fast.group(1).lower() == "displayname":
            records = await directory_listing.list_groups(
                self.ctx, display_name=json.loads(f'"{fast.group(2)}"')
            )
        else:
            records = await directory_listing.list_groups(self.ctx)
        base = self._base(request)
        models = [group_model(r, base) for r in records]
        if compiled is not None:
            models = [m for m in models if compiled.match(m)]
        return self._listed(request, models, Group)

    async def create_group(self, request: web.Request) -> web.StreamResponse:
        data = group_input(parse_group(await self._body(request)))
        record = await group_provisioning.create_group(self.ctx, data)
        model = group_model(record, self._base(request))
        response = scim_json(dump(model), status=201, version=record.row.version)
        response.headers["Location"] = str(model.meta.location if model.meta else "")
        return response

    async def get_group(self, request: web.Request) -> web.StreamResponse:
        record = await directory_listing.get_group(self.ctx, request.match_info["id"])
        model = group_model(record, self._base(request))
        return scim_json(dump(model, self._parameters(request, Group)), version=record.row.version)

    async def replace_group(self, request: web.Request) -> web.StreamResponse:
        data = group_input(parse_group(await self._body(request)))
        record = await group_provisioning.replace_group(
            self.ctx,
            request.match_info["id"],
            data,
            expected_version=version_of(request.headers.get("If-Match")),
        )
        return scim_json(dump(group_model(record, self._base(request))), version=record.row.version)

    async def patch_group(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        current = await directory_listing.get_group(self.ctx, request.match_info["id"])
        expected = version_of(request.headers.get("If-Match"))
        patched = patch_group(current, self._base(request), body)
        record = await group_provisioning.replace_group(
            self.ctx,
            current.row.id,
            group_input(patched),
            expected_version=expected if expected is not None else current.row.version,
        )
        return scim_json(dump(group_model(record, self._base(request))), version=record.row.version)

    async def delete_group(self, request: web.Request) -> web.StreamResponse:
        await group_provisioning.delete_group(self.ctx, request.match_info["id"])
        return web.Response(status=204)

    # ---------------------------------------------------------------- discovery

    async def service_provider_config(self, request: web.Request) -> web.StreamResponse:
        return scim_json(discovery.service_provider_config(self._base(request)))

    async def resource_types(self, request: web.Request) -> web.StreamResponse:
        return scim_json(discovery.listed(discovery.resource_types(self._base(request))))

    async def schemas(self, request: web.Request) -> web.StreamResponse:
        return scim_json(discovery.listed(discovery.schemas(self._base(request))))

    def routes(self) -> list[web.RouteDef]:
        g = self.guarded
        return [
            web.get(f"{BASE}/Users", g(self.list_users)),
            web.post(f"{BASE}/Users", g(self.create_user)),
            web.get(f"{BASE}/Users/{{id}}", g(self.get_user)),
            web.put(f"{BASE}/Users/{{id}}", g(self.replace_user)),
            web.patch(f"{BASE}/Users/{{id}}", g(self.patch_user)),
            web.delete(f"{BASE}/Users/{{id}}", g(self.delete_user)),
            web.get(f"{BASE}/Groups", g(self.list_groups)),
            web.post(f"{BASE}/Groups", g(self.create_group)),
            web.get(f"{BASE}/Groups/{{id}}", g(self.get_group)),
            web.put(f"{BASE}/Groups/{{id}}", g(self.replace_group)),
            web.patch(f"{BASE}/Groups/{{id}}", g(self.patch_group)),
            web.delete(f"{BASE}/Groups/{{id}}", g(self.delete_group)),
            web.get(f"{BASE}/ServiceProviderConfig", g(self.service_provider_config)),
            web.get(f"{BASE}/ResourceTypes", g(self.resource_types)),
            web.get(f"{BASE}/Schemas", g(self.schemas)),
        ]


class ProvisioningErrorSyntax(ProvisioningError):
    scim_type = "invalidSyntax"


_ = EnterpriseUser  # the extension is part of ScimUser
