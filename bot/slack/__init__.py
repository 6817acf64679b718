"""Slack edge: a slack-bolt ``AsyncApp`` served on the shared aiohttp app (or over Socket Mode).

``install`` wires it into ``gatepass serve``; ``actions`` (one module per group, shaped as on
Teams) ack, call a core use case and render with the pure builders in ``blocks``; ``notifier`` is
core's ``Notifier`` port for Slack; ``identity`` maps Slack users to people (by email); ``form``
holds the request modal's state; ``home`` publishes App Home tabs. ``client`` builds the Web API
client and the bolt app, ``text`` keeps user-supplied strings inert in mrkdwn and inside Block
Kit's limits, ``ids`` names every command, action and view id in one place (the manifest and
the actions both use it).
"""
