"""How a reminder's body reads at rich (Markdown/HTML) and plain destinations."""

from __future__ import annotations

import pytest

from scheduler.notify.format import escape_markdown, markdown, plain_text
from scheduler.notify.port import Message

BODY = "\n".join(
    [
        "10–15 min of cold on calves.",
        "Caution: Wrap the ice in a cloth.",
        "Why: 5*1k [club] was classed as speedwork.",
    ]
)


def test_plain_text_is_the_body_untouched() -> None:
    rendering = plain_text(Message("Ice now — 5*1k", BODY))
    assert (rendering.title, rendering.body, rendering.body_format) == ("Ice now — 5*1k", BODY, "text")


def test_markdown_keeps_each_line_as_a_paragraph_and_bolds_labels() -> None:
    rendering = markdown(Message("Ice now", BODY))
    assert rendering.body_format == "markdown"
    assert rendering.body.split("\n\n") == [
        "10–15 min of cold on calves.",
        "**Caution:** Wrap the ice in a cloth.",
        r"**Why:** 5\*1k \[club\] was classed as speedwork.",
    ]


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("5*1k", r"5\*1k"),
        ("wu_4x1mi_cd", r"wu\_4x1mi\_cd"),
        ("#123 parkrun", r"\#123 parkrun"),
        ("<b>", r"\<b\>"),
        ("10–15 min", "10–15 min"),
    ],
)
def test_escape_markdown(text: str, escaped: str) -> None:
    assert escape_markdown(text) == escaped
