"""Pure Block Kit builders: messages (one per domain message), modals and the Home tab.

Nothing here talks to Slack or the database; tests render and inspect the output directly.
"""

from bot.slack.blocks import break_glass as _break_glass  # registers its renders
from bot.slack.blocks import channel as _channel  # registers its render
from bot.slack.blocks.common import Rendered
from bot.slack.blocks.messages import render

__all__ = ["Rendered", "render"]
del _break_glass, _channel
