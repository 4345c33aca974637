"""An accessibility and size check of every page view, on the real listener over a real database: a lang
attribute, a title, one h1 and headings that never skip a level, a label (or aria-label) for every
control and a name for every button, alt on every image, each view under 100 KB; and the WCAG contrast of
every colour pair the stylesheet uses (text 4.5:1, the focus ring 3:1 against the surfaces it is drawn on).

The athlete page is measured at its largest: two weeks of hard days (two races a day, every step planned),
check-ins in force and the "what changed" panel on top."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.domain.checkins import LEGS_STEP
from scheduler.ingest import ingest_activity
from scheduler.store import models
from scheduler.store.db import transaction
from scheduler.web import checkins, pages, signing
from tests.integration.test_web_page import ADA, BO, NOW, Site, csrf_of, ingest_config, race, seed, start_site

ADMIN_TOKEN = "accessibility-admin-token-0123456789"
MAX_VIEW_BYTES = 100 * 1024
TEXT_CONTRAST = 4.5  # WCAG 2.2 AA, normal text
NON_TEXT_CONTRAST = 3.0  # WCAG 2.2 AA, user-interface components and focus indicators


# -- the HTML checks --------------------------------------------------------------------------------------


@dataclass
class _Audit(HTMLParser):
    lang: str | None = None
    title: str = ""
    headings: list[int] = field(default_factory=list)
    controls: list[dict[str, str | None]] = field(default_factory=list)
    label_for: set[str] = field(default_factory=set)
    images_without_alt: list[dict[str, str | None]] = field(default_factory=list)
    nameless_buttons: int = 0
    _in_title: bool = False
    _in_label: int = 0
    _button: list[str] | None = None
    _button_label: str | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        elif tag == "title":
            self._in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "label":
            self._in_label += 1
            if values.get("for"):
                self.label_for.add(str(values["for"]))
        elif tag in ("input", "select", "textarea") and values.get("type") != "hidden":
            self.controls.append({**values, "wrapped": "yes" if self._in_label else None})
        elif tag == "img" and not values.get("alt"):
            self.images_without_alt.append(values)
        elif tag == "button":
            self._button, self._button_label = [], values.get("aria-label")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "label":
            self._in_label -= 1
        elif tag == "button" and self._button is not None:
            if not "".join(self._button).strip() and not self._button_label:
                self.nameless_buttons += 1
            self._button = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._button is not None:
            self._button.append(data)


def problems(html: str) -> list[str]:
    """What an assistive-technology user would trip over in this view (empty: nothing)."""
    audit = _Audit()
    audit.feed(html)
    found = []
    if not audit.lang:
        found.append("no lang attribute on <html>")
    if not audit.title.strip():
        found.append("no title")
    if audit.headings.count(1) != 1 or (audit.headings and audit.headings[0] != 1):
        found.append(f"not exactly one h1, first: {audit.headings}")
    for before, after in zip(audit.headings, audit.headings[1:], strict=False):
        if after > before + 1:
            found.append(f"heading h{before} followed by h{after}")
    for control in audit.controls:
        labelled = control.get("id") in audit.label_for or control.get("aria-label") or control.get("wrapped")
        if not labelled:
            found.append(f"control without a label: {control}")
    found += [f"image without alt: {image}" for image in audit.images_without_alt]
    if audit.nameless_buttons:
        found.append(f"{audit.nameless_buttons} button(s) without a name")
    return found


def test_the_audit_finds_what_it_looks_for() -> None:
    """The checks can fail: each broken page below is caught."""
    ok = '<html lang="en"><title>T</title><h1>A</h1><h2>B</h2><label for="x">X</label><input id="x"></html>'
    assert problems(ok) == []
    assert problems(ok.replace(' lang="en"', "")) == ["no lang attribute on <html>"]
    assert problems(ok.replace("<h2>B</h2>", "<h3>B</h3>")) == ["heading h1 followed by h3"]
    assert problems(ok.replace('<label for="x">X</label>', ""))[0].startswith("control without a label")
    assert problems(ok.replace("</html>", '<img src="a.png"><button></button></html>')) == [
        "image without alt: {'src': 'a.png'}",
        "1 button(s) without a name",
    ]


# -- every view ---------------------------------------------------------------------------------------------


def heavy_history(sessions: sessionmaker[Session]) -> None:
    """Two weeks of two races a day for Ada: the page at its fullest (its lists are capped)."""
    with transaction(sessions) as session:
        athlete = session.get(models.Athlete, ADA)
        assert athlete is not None
        for day in range(1, 15):
            for n, hour in enumerate(("14:10", "19:10")):
                start = (NOW - timedelta(days=day)).strftime(f"%Y-%m-%dT{hour}:00Z")
                raw = race(
                    1000 + day * 10 + n,
                    ADA,
                    name=f"Club race {day}.{n} — a long name to show how the page wraps it",
                    start_date=start,
                )
                ingest_activity(session, athlete, raw, ingest_config(), NOW)
        for kind, area in (("tight", "hamstrings"), ("knee_unstable", None), ("sore", "calves")):
            checkins.record(session, ADA, kind, ingest_config(), NOW, area=area, note="as told on the page")


@pytest.fixture
def site(sessions: sessionmaker[Session]) -> Iterator[Site]:
    seed(sessions)
    heavy_history(sessions)
    running = start_site(sessions, token=ADMIN_TOKEN)
    yield running
    running.server.stop()


def signed_link(site: Site, step: str, action: str) -> str:
    with transaction(site.sessions) as session:
        key = signing.secret(session, NOW)
        row = session.scalars(
            select(models.Reminder).where(
                models.Reminder.athlete_id == ADA,
                models.Reminder.step == step,
                models.Reminder.expires_at > NOW,
            )
        ).first()
        assert row is not None, step
        return site.url + signing.action_path(key, row.id, action, row.expires_at)


def views(site: Site) -> dict[str, httpx.Response]:
    """Every page view the listener renders, with its content at its largest."""
    shown: dict[str, httpx.Response] = {}
    with site.client() as stranger:
        shown["sign-in"] = stranger.get("/")
        shown["sign-in refused"] = stranger.get(f"/athletes/{ADA}")
        shown["link not valid"] = stranger.get("/signin/not-a-token")
        done = signed_link(site, "ice", "done")
        shown["confirm an answer"] = stranger.get(done)
        shown["forged link"] = stranger.get(done.replace("s=", "s=x"))
        knee = signed_link(site, LEGS_STEP, "knee_ache")
        shown["confirm a question's answer"] = stranger.get(knee)
        shown["answered, with what changed"] = stranger.post(knee)
        shown["answered"] = stranger.post(done)
    with site.client() as admin:
        shown["athletes (admin)"] = admin.get("/", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    client = site.signed_in(ADA)
    page = client.get(f"/athletes/{ADA}")
    shown["athlete page"] = page
    shown["not found"] = client.get(f"/athletes/{BO}")  # another athlete's page: as if it did not exist
    shown["check-in, with what changed"] = client.post(
        f"/athletes/{ADA}/checkins", data={"csrf": csrf_of(page.text), "kind": "pain", "area": "calf"}
    )
    shown["bad input"] = client.post(
        f"/athletes/{ADA}/checkins", data={"csrf": csrf_of(page.text), "kind": "x"}
    )
    return shown


def test_every_view_passes_the_audit_and_stays_under_100_kb(site: Site) -> None:
    shown = views(site)
    statuses = {name: response.status_code for name, response in shown.items()}
    assert statuses["athlete page"] == 200 and statuses["answered, with what changed"] == 200, statuses
    assert statuses["sign-in refused"] == 401 and statuses["forged link"] == 403, statuses
    page = shown["athlete page"].text
    assert (
        page.count('class="card activity') >= 28 and page.count('class="card checkin"') == 4
    )  # at its fullest (the knee ache answered above)
    sizes = {name: len(response.content) for name, response in shown.items()}
    print("view sizes (bytes):", sizes)
    for name, response in shown.items():
        assert response.headers["content-type"].startswith("text/html"), name
        assert problems(response.text) == [], name
        assert sizes[name] < MAX_VIEW_BYTES, (name, sizes[name])


# -- the stylesheet's colours ------------------------------------------------------------------------------


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    hex_ = colour.lstrip("#")
    if len(hex_) == 3:
        hex_ = "".join(ch * 2 for ch in hex_)
    r, g, b = (int(hex_[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(first: str, second: str) -> float:
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@dataclass(frozen=True)
class Rule:
    selector: str
    colour: str | None
    background: str | None
    outline: str | None
    border: str | None


_COLOUR = r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b"


def rules(css: str) -> list[Rule]:
    """Each rule's text colour, background, outline and border colours, custom properties resolved."""
    variables = dict(re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", css.split("}")[0]))
    resolved = re.sub(r"var\((--[\w-]+)\)", lambda m: variables[m.group(1)].strip(), css)
    resolved = re.sub(r"/\*.*?\*/", "", resolved, flags=re.S)
    found = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", resolved):
        declarations = dict(
            (name.strip(), value.strip())
            for name, value in (d.split(":", 1) for d in body.split(";") if ":" in d)
        )

        def colour_of(*names: str, declarations: dict[str, str] = declarations) -> str | None:
            for name in names:
                match = re.search(_COLOUR, declarations.get(name, ""))
                if match:
                    return match.group(0)
            return None

        found.append(
            Rule(
                selector.strip(),
                colour_of("color"),
                colour_of("background", "background-color"),
                colour_of("outline", "outline-color"),
                colour_of("border", "border-left", "border-color"),
            )
        )
    return found


# A rule with a background but no text colour of its own shows the text of these rules on it; the text
# rules and the focus ring inside it (".top :focus-visible") are drawn on its background.
TEXT_ON = {".top": ".top a, .top .link"}


def colour_pairs(css: str) -> list[tuple[str, str, str, float]]:
    """(what, foreground, background, the contrast it needs) for every pair the stylesheet can show."""
    found = rules(css)
    by_selector = {rule.selector: rule for rule in found}
    body = by_selector["body"]
    assert body.colour and body.background
    surfaces = {body.background, by_selector[".card"].background or "#ffffff"}
    on_own_background = {text: background for background, text in TEXT_ON.items()}
    pairs = []
    for rule in found:
        if rule.selector == ":root":
            continue
        if rule.colour and rule.background:
            pairs.append((rule.selector, rule.colour, rule.background, TEXT_CONTRAST))
        elif rule.colour and rule.selector in on_own_background:
            background = by_selector[on_own_background[rule.selector]].background
            assert background is not None
            pairs.append((rule.selector, rule.colour, background, TEXT_CONTRAST))
        elif rule.colour:
            pairs += [(rule.selector, rule.colour, surface, TEXT_CONTRAST) for surface in surfaces]
        elif rule.background:
            text = by_selector[TEXT_ON[rule.selector]].colour if rule.selector in TEXT_ON else body.colour
            assert text is not None
            pairs.append((rule.selector, text, rule.background, TEXT_CONTRAST))
        if rule.border and re.search(r"\b(?:input|select|button)\b", rule.selector):
            # A control's edge shows where to tap (cards' borders are decoration: not checked).
            pairs += [
                (rule.selector + " border", rule.border, s, NON_TEXT_CONTRAST) for s in sorted(surfaces)
            ]
        if rule.outline:  # the focus ring, on every surface it can be drawn on
            ring_on = [
                background
                for prefix, text in TEXT_ON.items()
                if rule.selector.startswith(prefix + " ")
                and (background := by_selector[prefix].background) is not None
            ] or sorted(surfaces)
            pairs += [(rule.selector + " outline", rule.outline, s, NON_TEXT_CONTRAST) for s in ring_on]
    return pairs


def test_contrast_is_computed_as_wcag_defines_it() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss
    assert contrast("#fff", "#ffffff") == pytest.approx(1.0)


def test_every_colour_pair_of_the_stylesheet_has_enough_contrast() -> None:
    css = (pages.STATIC / "style.css").read_text()
    pairs = colour_pairs(css)
    assert len(pairs) >= 20  # the parser found the stylesheet's colours
    weak = [
        f"{what}: {fg} on {bg} is {contrast(fg, bg):.2f}:1, needs {need}:1"
        for what, fg, bg, need in pairs
        if contrast(fg, bg) < need
    ]
    assert weak == []
