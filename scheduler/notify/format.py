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

from scheduler.notify.port import Link, Message

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


def plain_text(message: Message, links: bool = True) -> Rendering:
    """The body as planned; with `links`, the answers and the page as "Label: URL" lines after it."""
    lines = [f"{link.label}: {link.url}" for link in _links(message)] if links else []
    body = "\n\n".join([message.body, "\n".join(lines)]) if lines else message.body
    return Rendering(title=message.title, body=body, body_format="text")


def markdown(message: Message, links: bool = True) -> Rendering:
    """Each line becomes a paragraph; text is escaped so an activity named "5*1k" stays literal. With `links`,
    a last paragraph holds the answers and the page as Markdown links (HTML links in an email)."""
    paragraphs = [_markdown_line(line) for line in message.body.splitlines() if line.strip()]
    if links and _links(message):
        paragraphs.append(
            " · ".join(f"[{escape_markdown(link.label)}]({link.url})" for link in _links(message))
        )
    return Rendering(title=message.title, body="\n\n".join(paragraphs), body_format="markdown")


NTFY_MAX_ACTIONS = 3


def ntfy_actions(message: Message) -> str:
    """The answers as ntfy action buttons (the `actions` argument of apprise's ntfy URL): each an `http`
    action POSTing its signed URL, clearing the notification. ntfy shows at most three: with more answers
    (how are the legs: four) the last button opens the page, where every answer is a button."""
    posted = list(message.links)
    view: list[str] = []
    if len(posted) > NTFY_MAX_ACTIONS and message.page_url:
        posted = posted[: NTFY_MAX_ACTIONS - 1]
        view = [f"action=view, label=Other answers, url={message.page_url}"]
    return "; ".join(
        [
            *(
                f"action=http, label={link.label}, url={link.url}, method=POST, clear=true"
                for link in posted[:NTFY_MAX_ACTIONS]
            ),
            *view,
        ]
    )


def _links(message: Message) -> list[Link]:
    page = [Link("Open the page", message.page_url)] if message.page_url else []
    return [*message.links, *page]


def escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _markdown_line(line: str) -> str:
    match = _LABEL.match(line.strip())
    if match is None:
        return escape_markdown(line.strip())
    return f"**{match['label']}:** {escape_markdown(match['rest'])}"
