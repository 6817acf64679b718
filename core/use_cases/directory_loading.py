"""Loading the provisioned directory at start, and refusing a contradiction: a person the
config file lists who is also provisioned over SCIM."""

from __future__ import annotations

from core.context import Context
from core.domain.directory import LiveDirectory
from core.storage import directory as stored


class Contradiction(Exception):
    """The config file names people SCIM provisions: refused at start."""


async def load(ctx: Context) -> tuple[int, int]:
    """Load the provisioned directory at start: (people from SCIM, people from the config
    file); Contradiction when someone is defined in both places."""
    directory = ctx.directory
    if not isinstance(directory, LiveDirectory):
        return 0, len(ctx.config.directory.users)
    async with ctx.store.reading() as session:
        await stored.refresh(session, directory)
    both = directory.contradictions()
    if both:
        raise Contradiction(
            f"{', '.join(both[:10])} {'is' if len(both) == 1 else 'are'} listed in the config "
            "file's directory.users and also provisioned over SCIM; a person comes from one "
            "place only: remove them from the config file or deprovision them in the identity "
            "provider"
        )
    from_config = len(directory.config.everyone())
    return len(directory.everyone()) - from_config, from_config
