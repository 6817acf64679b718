"""The SCIM edge's parts: the ``/scim/v2`` routes, when ``directory.scim`` is configured and its
token resolved; otherwise none, and why (named at start and on ``/healthz``)."""

from __future__ import annotations

import logging

from bot.platform import PlatformParts, left_out
from bot.scim.handlers import Scim
from core.config.settings import Settings
from core.context import Context
from core.use_cases import directory_loading

log = logging.getLogger("gatepass")


def install(settings: Settings, ctx: Context) -> PlatformParts:
    if settings.config.directory.scim is None or settings.scim_token is None:
        return left_out(settings, "scim")
    token = settings.scim_token.reveal().encode()

    async def prepare() -> None:
        try:
            from_scim, from_config = await directory_loading.load(ctx)
        except directory_loading.Contradiction as both:
            raise SystemExit(f"gatepass cannot start: {both} ({settings.config_path})") from None
        log.info(
            "directory: %d people from SCIM (the identity provider's word for everyone it "
            "provisions) and %d from %s directory.users",
            from_scim,
            from_config,
            settings.config_path,
        )

    return PlatformParts(name="scim", routes=Scim(ctx, token).routes(), prepare=prepare)
