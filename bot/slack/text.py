"""User-supplied strings rendered inert in mrkdwn, and Block Kit's size limits.

Anything a person typed or an outside system named (a justification, a deny reason, a cluster or
database name, a display name) goes through :func:`escape` before it is put into mrkdwn, and every
text put into a block goes through :func:`truncate` (or the :func:`mrkdwn` / :func:`plain_text`
helpers that call it) so Slack never rejects a message over its size.

What :func:`escape` does, and why:

- ``&``, ``<`` and ``>`` become ``&amp;``, ``&lt;`` and ``&gt;``: the escaping Slack documents.
  Every control sequence (``<!channel>``, ``<!here>``, ``<@U123>``, ``<#C1>``, ``<!subteam^S1>``,
  ``<!date^…>``, ``<https://evil|click>``) starts with ``<``, so none survives.
- mrkdwn has no escape for its formatting characters. Two techniques that look like they should
  work do not: the fullwidth look-alikes (U+FF0A asterisk, U+FF3F low line, U+FF5E tilde,
  U+FF40 grave accent, U+FF1E greater-than) are formatting characters in Slack too, and a
  zero-width space counts as a word boundary, so it *enables* formatting next to it. What works
  is a date token with an invalid format: Slack always shows its fallback text, as plain text
  (the technique of jsx-slack's ``<Escape>``). So each asterisk, low line, tilde and grave
  accent, fullwidth or not, becomes ``<!date^00000000^{_}|*>`` (22 characters: count them against
  the limits): the reader sees the character, Slack never formats with it.
- A ``>`` cannot be put in a fallback (it would end the token), so a line that starts with ``>``
  or its fullwidth form (after any spaces) gets an invisible soft hyphen (U+00AD) first: no
  quote.
- ``@here``, ``@channel`` and ``@everyone`` typed as text get their ``@`` wrapped the same way, so
  no auto-parsing (``verbatim: false``, ``link_names``) can turn them into a broadcast.
- Bidi embedding/override/isolate controls and other control characters are removed: they can
  make a resource name read differently from what it is.

Put user text in text objects with ``verbatim: true`` (:func:`mrkdwn` does): Slack then does not
auto-link bare URLs or channel names in it either.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from core.domain.sentences import utc_text

# --------------------------------------------------------------------------- Block Kit limits
# In characters. Slack answers ``invalid_blocks`` (messages) or ``invalid_arguments`` (views).

MAX_TEXT_OBJECT = 3000
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELD = 2000
MAX_SECTION_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_CONTEXT_TEXT = 3000  # a context element is a text object: the text-object limit applies
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTION_DESCRIPTION = 75
MAX_OPTIONS = 100  # per select, and per option group
MAX_OPTION_GROUP_LABEL = 75
MAX_PLACEHOLDER = 150
MAX_INPUT_LABEL = 2000
MAX_INPUT_HINT = 2000
MAX_TEXT_INPUT_LENGTH = 3000  # plain_text_input max_length
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_MODAL_TITLE = 24
MAX_MODAL_BUTTON = 24  # submit and close
MAX_BLOCKS_PER_MESSAGE = 50
MAX_BLOCKS_PER_VIEW = 100  # modals and the App Home
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_CALLBACK_ID = 255
MAX_EXTERNAL_ID = 255
MAX_PRIVATE_METADATA = 3000
MAX_MESSAGE_TEXT = 40000  # a message's top-level ``text`` (msg_too_long above); keep it short

ELLIPSIS = "…"
SOFT_HYPHEN = "\u00ad"

# --------------------------------------------------------------------------- escaping

_FULLWIDTH = "\uff0a\uff3f\uff5e\uff40"  # the fullwidth asterisk, low line, tilde, grave accent
_FULLWIDTH_QUOTE = "\uff1e"
_FORMATTING = re.compile(f"[*_~`{_FULLWIDTH}]|@(?=(?i:here|channel|everyone)\\b)")
_QUOTE_LINE = re.compile(f"^(?=[ \\t]*(?:&gt;|{_FULLWIDTH_QUOTE}))", re.MULTILINE)
# C0/C1 controls except tab and newline; bidi embeddings, overrides and isolates.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile(r"\s*(?:\r\n|\r|\n)\s*")


def _literal(char: str) -> str:
    """``char`` as the fallback of a date token whose format is invalid: shown as plain text."""
    return f"<!date^00000000^{{_}}|{char}>"


def escape(text: str, *, single_line: bool = False) -> str:
    """``text`` as mrkdwn that renders exactly as written: no mentions, links or formatting.

    ``single_line`` folds line breaks into spaces (names, headers, one-line summaries).
    """
    text = _INVISIBLE.sub("", text.replace("\r\n", "\n"))
    if single_line:
        text = _NEWLINES.sub(" ", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _FORMATTING.sub(lambda match: _literal(match.group()), text)
    return _QUOTE_LINE.sub(SOFT_HYPHEN, text)


# --------------------------------------------------------------------------- truncation

# What must never be cut in half: an entity (&amp;) or a control sequence (<@U1>, <!date^…|*>).
_ATOMIC = re.compile(r"&(?:#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|[A-Za-z]{2,8});|<[^<>]*>")


def truncate(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``ellipsis`` when cut.

    Never cuts inside an entity (``&amp;``) or a ``<…>`` control sequence: such a piece is left
    out whole, so the result is as safe as the input.
    """
    if limit < len(ellipsis):
        raise ValueError(f"limit {limit} leaves no room for the ellipsis {ellipsis!r}")
    if len(text) <= limit:
        return text
    cut = limit - len(ellipsis)
    for match in _ATOMIC.finditer(text):
        if match.start() >= cut:
            break
        if match.end() > cut:
            cut = match.start()
            break
    return text[:cut].rstrip() + ellipsis


# --------------------------------------------------------------------------- text objects


def mrkdwn(text: str, *, limit: int = MAX_TEXT_OBJECT) -> dict[str, Any]:
    """A mrkdwn text object, cut to ``limit``, with ``verbatim`` on (no auto-linking).

    ``text`` is mrkdwn written by us: every user-supplied part must already be :func:`escape`d.
    """
    if not text:
        raise ValueError("Slack rejects an empty text object")
    return {"type": "mrkdwn", "text": truncate(text, limit), "verbatim": True}


def plain_text(text: str, *, limit: int, emoji: bool = True) -> dict[str, Any]:
    """A plain_text object (buttons, headers, options, titles), cut to ``limit``.

    plain_text is never parsed for mentions, links or formatting: do not escape what goes in.
    """
    if not text:
        raise ValueError("Slack rejects an empty text object")
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": emoji}


# --------------------------------------------------------------------------- mentions and dates

_USER_ID = re.compile(r"[UW][A-Z0-9]+")
_DATE_FORMAT = re.compile(r"[^<>|^]+")


def user_mention(user_id: str) -> str:
    """``<@U123>`` for a user id Slack gave us; anything else is refused, not rendered."""
    if not _USER_ID.fullmatch(user_id):
        raise ValueError(f"not a Slack user id: {user_id!r}")
    return f"<@{user_id}>"


def local_time(moment: datetime, *, style: str = "{date_short_pretty} {time}") -> str:
    """``moment`` shown in each reader's own time zone; core's UTC text for clients that cannot."""
    if moment.tzinfo is None:
        raise ValueError("a date for Slack must be timezone-aware")
    if not _DATE_FORMAT.fullmatch(style):
        raise ValueError(f"not a Slack date format: {style!r}")
    fallback = utc_text(moment)
    return f"<!date^{int(moment.timestamp())}^{style}|{fallback}>"
