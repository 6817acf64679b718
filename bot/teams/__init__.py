"""The Microsoft Teams edge.

``bot.teams.endpoint`` (botbuilder's CloudAdapter behind ``POST /api/messages``) and
``bot.teams.auth`` import botbuilder; ``bot.teams.package`` (the app package) does not, so this
package imports nothing on purpose.
"""
