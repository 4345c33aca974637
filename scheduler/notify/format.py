"""How a reminder reads at each destination: Markdown where the service renders it, plain text elsewhere.

Planning renders bodies as plain text lines ("10–15 min of cold …", "Caution: …", "Why: …"). Services that
show rich text (email as HTML, Telegram, ntfy with `format=markdown`, …) get the same words as Markdown with
the line labels in bold; apprise turns that Markdown into HTML where the service wants HTML. Every other
service gets the plain text untouched, because apprise passes Markdown to a plain-text service verbatim and
the reader would see the asterisks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from scheduler.notify.port import Message

BodyFormat = Literal["text", "markdown"]

# A leading "Label:" (one capitalised word, short) is a section label worth emphasising.
_LABEL = re.compile(r"^(?P<label>[A-Z][A-Za-z]{1,15}):\s+(?P<rest>.*)$")
# Characters that would otherwise start emphasis, links, headings, code or HTML in Markdown.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


@dataclass(frozen=True, slots=True)
class Rendering:
    title: str
    body: str
    body_format: BodyFormat


def plain_text(message: Message) -> Rendering:
    return Rendering(title=message.title, body=message.body, body_format="text")


def markdown(message: Message) -> Rendering:
    """Each line becomes a paragraph; text is escaped so an activity named "5*1k" stays literal."""
    paragraphs = [_markdown_line(line) for line in message.body.splitlines() if line.strip()]
    return Rendering(title=message.title, body="\n\n".join(paragraphs), body_format="markdown")


def escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _markdown_line(line: str) -> str:
    match = _LABEL.match(line.strip())
    if match is None:
        return escape_markdown(line.strip())
    return f"**{match['label']}:** {escape_markdown(match['rest'])}"
