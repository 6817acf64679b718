"""A chat platform at the port: records what it was asked to send and update."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from bot.platform import Installer, PlatformParts
from core.config.settings import Settings
from core.context import Context
from core.domain.ports import MessageRef


@dataclass
class RecordingNotifier:
    platform: str = "slack"
    people: set[str] | None = None  # None: everyone is reachable
    sent: list[tuple[str, Any, MessageRef]] = field(default_factory=list)
    updated: list[tuple[MessageRef, Any]] = field(default_factory=list)  # in DMs and channels
    channel_posts: list[tuple[str, Any, MessageRef]] = field(default_factory=list)
    unreachable_channels: set[str] = field(default_factory=set)  # the app is not in these
    failures: int = 0
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    async def reachable(self, person: str) -> bool:
        return self.people is None or person in self.people

    async def send(self, person: str, message: Any) -> MessageRef | None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError(f"{self.platform} is down")
        ref = MessageRef(self.platform, f"D-{person}", str(next(self._ids)))
        self.sent.append((person, message, ref))
        return ref

    async def update(self, ref: MessageRef, message: Any) -> None:
        self.updated.append((ref, message))

    async def post_to_channel(self, channel: str, message: Any) -> MessageRef | None:
        if channel in self.unreachable_channels:
            return None
        ref = MessageRef(self.platform, channel, str(next(self._ids)))
        self.channel_posts.append((channel, message, ref))
        return ref

    async def update_in_channel(self, ref: MessageRef, message: Any) -> None:
        self.updated.append((ref, message))  # ``ref.channel`` says where

    def to(self, person: str, kind: type | None = None) -> list[Any]:
        return [m for p, m, _ in self.sent if p == person and (kind is None or isinstance(m, kind))]


def recording_platform(chat: RecordingNotifier) -> Installer:
    """An installer whose only part is ``chat``: the app's notice jobs send through it."""

    def install(settings: Settings, ctx: Context) -> PlatformParts:
        return PlatformParts(name=f"recording-{chat.platform}", notifier=chat)

    return install
