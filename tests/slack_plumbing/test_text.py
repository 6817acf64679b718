"""User-supplied strings render inert in mrkdwn; texts fit Slack's limits without broken escapes."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.slack import text
from bot.slack.text import escape, local_time, mrkdwn, plain_text, truncate, user_mention
from tests.fakes.slack_blocks import check_blocks, check_view

LIT = "<!date^00000000^{_}|%s>"  # how escape() shows one formatting character literally
SHY = "\u00ad"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<!here>", "&lt;!here&gt;"),
        ("<!everyone>", "&lt;!everyone&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("<#C1>", "&lt;#C1&gt;"),
        ("<!subteam^S1|@dbas>", "&lt;!subteam^S1|@dbas&gt;"),
        ("<https://evil|click>", "&lt;https://evil|click&gt;"),
        ("<!date^1^{date}|x>", "&lt;!date^1^{date}|x&gt;"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
        ("&amp; &lt;", "&amp;amp; &amp;lt;"),
        ("plain words 123", "plain words 123"),
    ],
)
def test_control_sequences_become_literal_text(raw: str, expected: str) -> None:
    assert escape(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("*bold*", f"{LIT % '*'}bold{LIT % '*'}"),
        ("_italic_", f"{LIT % '_'}italic{LIT % '_'}"),
        ("~strike~", f"{LIT % '~'}strike{LIT % '~'}"),
        ("`code`", f"{LIT % '`'}code{LIT % '`'}"),
        ("```pre```", (LIT % "`") * 3 + "pre" + (LIT % "`") * 3),
        ("\uff0abold\uff0a", f"{LIT % chr(0xFF0A)}bold{LIT % chr(0xFF0A)}"),
        ("user_events", f"user{LIT % '_'}events"),
    ],
)
def test_formatting_characters_are_shown_not_applied(raw: str, expected: str) -> None:
    assert escape(raw) == expected


def test_a_line_starting_with_a_quote_marker_is_not_a_quote() -> None:
    assert escape("> quoted") == f"{SHY}&gt; quoted"
    assert escape("ok\n  > two\n\uff1e three\nfour > five") == (
        f"ok\n{SHY}  &gt; two\n{SHY}\uff1e three\nfour &gt; five"
    )


def test_broadcast_words_cannot_be_auto_parsed() -> None:
    assert escape("@here now") == f"{LIT % '@'}here now"
    assert escape("ping @Channel and @everyone") == (
        f"ping {LIT % '@'}Channel and {LIT % '@'}everyone"
    )
    assert escape("mail alice@example.com @hereafter") == "mail alice@example.com @hereafter"


def test_invisible_direction_and_control_characters_are_removed() -> None:
    assert escape("report\u202egpj.exe") == "reportgpj.exe"
    assert escape("a\x00b\x1bc\tx\r\ny") == "abc\tx\ny"


def test_single_line_folds_line_breaks() -> None:
    assert escape("Cluster0\n> prod\r\nshard", single_line=True) == "Cluster0 &gt; prod shard"


def test_escaped_text_has_no_control_sequence_but_the_literal_ones() -> None:
    nasty = "<!channel> *x* _y_ ~z~ `w` <@U1> <#C1|general> <https://a|b> & @here > q"
    escaped = escape(nasty)
    leftovers = re.sub(r"<!date\^00000000\^\{_\}\|[*_~`@]>", "", escaped)
    assert "<" not in leftovers and ">" not in leftovers
    assert not re.search(r"[*_~`]", leftovers)


# --------------------------------------------------------------------------- truncation


def test_truncate_leaves_short_text_alone_and_marks_a_cut() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("exactly10!", 10) == "exactly10!"
    assert truncate("this is too long", 10) == "this is t…"
    assert truncate("word  and", 7) == "word…"  # no dangling space before the ellipsis
    with pytest.raises(ValueError, match="no room"):
        truncate("abc", 0)


def test_truncate_never_splits_an_entity() -> None:
    escaped = escape("a&b")  # a&amp;b
    assert truncate(escaped, 4) == "a…"
    assert truncate(escaped, 6) == "a…"
    assert truncate(escaped, 7) == escaped
    assert truncate("x" * 10 + "&amp;", 13) == "x" * 10 + "…"


def test_truncate_never_splits_a_control_sequence() -> None:
    escaped = escape("ab*cd")
    assert truncate(escaped, 10) == "ab…"
    mention = "hi " + user_mention("U0ALICE")
    assert truncate(mention, 8) == "hi…"


def test_truncate_fits_and_keeps_every_escape_whole() -> None:
    pieces = ["a", "&", "<", ">", "*", "_", "@here", " ", "\n> ", "é", "日本", "👍"]
    rng = random.Random(20240601)
    for _ in range(300):
        escaped = escape("".join(rng.choice(pieces) for _ in range(rng.randint(0, 60))))
        for limit in (1, 2, 5, 9, 23, 24, 75, 150):
            cut = truncate(escaped, limit)
            assert len(cut) <= limit
            body = cut.removesuffix("…") if cut != escaped else cut
            assert escaped.startswith(body)
            stripped = re.sub(r"&(?:amp|lt|gt);|<!date\^00000000\^\{_\}\|[*_~`@]>", "", body)
            assert "&" not in stripped and "<" not in stripped and ">" not in stripped


# --------------------------------------------------------------------------- helpers


def test_text_objects_are_cut_to_their_limit() -> None:
    assert mrkdwn("*Reason:* " + escape("x" * 5000)) == {
        "type": "mrkdwn",
        "text": "*Reason:* " + "x" * (text.MAX_TEXT_OBJECT - 11) + "…",
        "verbatim": True,
    }
    button = plain_text("Approve " * 20, limit=text.MAX_BUTTON_TEXT)
    assert len(button["text"]) == text.MAX_BUTTON_TEXT and button["type"] == "plain_text"
    with pytest.raises(ValueError, match="empty"):
        plain_text("", limit=10)


@pytest.mark.parametrize("user_id", ["U0ALICE", "W012ABC", "U1"])
def test_user_mention_for_ids_slack_gave(user_id: str) -> None:
    assert user_mention(user_id) == f"<@{user_id}>"


@pytest.mark.parametrize(
    "user_id", ["", "u123", "C123", "U", "U12 3", "U123\n", "U1><!channel", "<@U1>", "U1|x"]
)
def test_user_mention_refuses_anything_else(user_id: str) -> None:
    with pytest.raises(ValueError, match="not a Slack user id"):
        user_mention(user_id)


def test_local_time_shows_each_reader_their_zone_with_a_utc_fallback() -> None:
    moment = datetime(2024, 6, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    expected = "<!date^1717245000^{date_short_pretty} {time}|2024-06-01 12:30 UTC>"
    assert local_time(moment) == expected
    assert local_time(moment, style="{time}").startswith("<!date^1717245000^{time}|")
    with pytest.raises(ValueError, match="timezone-aware"):
        local_time(datetime(2024, 6, 1))  # naive: refused
    with pytest.raises(ValueError, match="date format"):
        local_time(datetime.now(UTC), style="{time}|<!channel>")


# --------------------------------------------------------------------------- limits agree


def _section(length: int) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": "x" * length}}


def test_limits_agree_with_the_fake_slack() -> None:
    """The constants match the limits the fake enforces, written separately from Slack's docs."""
    assert check_blocks([_section(text.MAX_SECTION_TEXT)], surface="message") == []
    assert check_blocks([_section(text.MAX_SECTION_TEXT + 1)], surface="message")
    divider = {"type": "divider"}
    assert check_blocks([divider] * text.MAX_BLOCKS_PER_MESSAGE, surface="message") == []
    assert check_blocks([divider] * (text.MAX_BLOCKS_PER_MESSAGE + 1), surface="message")
    header = {"type": "header", "text": plain_text("h" * 500, limit=text.MAX_HEADER_TEXT)}
    assert check_blocks([header], surface="message") == []
    button = {
        "type": "button",
        "action_id": "a" * text.MAX_ACTION_ID,
        "text": plain_text("b" * 500, limit=text.MAX_BUTTON_TEXT),
        "value": "v" * text.MAX_BUTTON_VALUE,
    }
    assert check_blocks([{"type": "actions", "elements": [button]}], surface="message") == []
    title = plain_text("Request access to MongoDB Atlas", limit=text.MAX_MODAL_TITLE)
    modal = {
        "type": "modal",
        "title": title,
        "blocks": [divider] * text.MAX_BLOCKS_PER_VIEW,
        "private_metadata": "m" * text.MAX_PRIVATE_METADATA,
        "callback_id": "c" * text.MAX_CALLBACK_ID,
    }
    assert check_view(modal) == []
    assert check_view({**modal, "blocks": [divider] * (text.MAX_BLOCKS_PER_VIEW + 1)})
