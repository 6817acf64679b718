"""MongoDB Atlas integrations: database users (``mongodb-atlas``) and Atlas UI roles
(``mongodb-atlas-portal``), over the Atlas Administration API v2."""

from __future__ import annotations

from core.integrations.atlas.client import AtlasClient, RetryPolicy, Version
from core.integrations.atlas.database import AtlasDatabaseAccess
from core.integrations.atlas.errors import (
    AtlasAuthError,
    AtlasBadRequest,
    AtlasConflict,
    AtlasError,
    AtlasNotFound,
    AtlasUnavailable,
)
from core.integrations.atlas.portal import AtlasPortalAccess
from core.integrations.atlas.users import username_for

__all__ = [
    "AtlasAuthError",
    "AtlasBadRequest",
    "AtlasClient",
    "AtlasConflict",
    "AtlasDatabaseAccess",
    "AtlasError",
    "AtlasNotFound",
    "AtlasPortalAccess",
    "AtlasUnavailable",
    "RetryPolicy",
    "Version",
    "username_for",
]
