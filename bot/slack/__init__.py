"""Slack edge: a slack-bolt ``AsyncApp`` served on the shared aiohttp app (or over Socket Mode).

``client`` builds the Web API client and the bolt app, ``text`` keeps user-supplied strings inert
in mrkdwn and inside Block Kit's limits, ``ids`` names every command, action and view id in one
place (the manifest and the listeners both use it).
"""
