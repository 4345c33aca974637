"""What an activity's own words say about the legs: "knee hurts", "sharp pain in my calf", "niggle", "tight
hamstrings", "knee felt wobbly" in its name, description or private note, in a few languages (English,
German, French, Spanish, Dutch), read through tables of patterns as scheduler.domain.names reads names.

Each finding is a check-in kind, the body part when the words name one, and the words themselves (quoted as
the check-in's reason). Negations are blanked out first, so "no pain today", "pain free", "kein Schmerz" or
"sin dolor" raise nothing, and words only count whole ("painting the fence" is not pain). The rows then run
in order and each match is blanked before the next row looks: "back of the knee aches" is a knee ache, not
the pain "knee hurts" is; "knee felt wobbly" is an unstable knee. Each kind is found at most once per text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.domain.checkins import CheckInKind

# Body parts, canonical English name → the words for it (singular, plural, a few languages).
AREAS: dict[str, tuple[str, ...]] = {
    "calf": (
        "calf",
        "calves",
        "wade",
        "waden",
        "mollet",
        "mollets",
        "gemelo",
        "gemelos",
        "pantorrilla",
        "pantorrillas",
        "kuit",
        "kuiten",
    ),
    "knee": ("knee", "knees", "knie", "knieën", "genou", "genoux", "rodilla", "rodillas"),
    "hamstrings": ("hamstring", "hamstrings", "hammies", "ischios", "isquios", "isquiotibiales"),
    "quads": ("quad", "quads", "quadriceps", "oberschenkel", "quadri", "cuádriceps", "cuadriceps"),
    "shin": ("shin", "shins", "schienbein", "tibia", "tibias", "scheenbeen", "espinilla"),
    # Words that are also common English ("pie", "been", "po") are left out on purpose.
    "foot": ("foot", "feet", "fuß", "fuss", "füße", "fusse", "pied", "pieds", "voet", "voeten"),
    "ankle": (
        "ankle",
        "ankles",
        "knöchel",
        "sprunggelenk",
        "cheville",
        "chevilles",
        "tobillo",
        "tobillos",
        "enkel",
        "enkels",
    ),
    "achilles": (
        "achilles",
        "achilles tendon",
        "achillessehne",
        "achille",
        "tendon d'achille",
        "aquiles",
        "tendón de aquiles",
        "achillespees",
    ),
    "hip": ("hip", "hips", "hüfte", "hanche", "hanches", "cadera", "heup"),
    "glutes": ("glute", "glutes", "fessier", "fessiers", "glúteo", "glúteos", "billen"),
    "heel": ("heel", "heels", "ferse", "talon", "talón", "hiel"),
    "it band": ("it band", "itb", "it-band", "bandelette"),
    "legs": ("leg", "legs", "bein", "beine", "jambe", "jambes", "pierna", "piernas", "benen"),
}
_AREA_OF = {word: area for area, words in AREAS.items() for word in words}
_BODY = "(?P<area>" + "|".join(re.escape(w) for w in sorted(_AREA_OF, key=len, reverse=True)) + ")"
_SIDE = (
    r"(?:(?:left|right|linke[rns]?|rechte[rns]?|gauche|droite?|izquierd[ao]|derech[ao]|linker|rechter)\s+)?"
)
_MY = r"(?:(?:my|the|mein(?:e[mnrs]?)?|der|die|dem|den|mon|ma|mes|le|la|les|mi|mis|el|los|las|mijn|de)\s+)"
_A_BIT = (
    r"(?:(?:a\s+)?(?:bit|little|very|really|super|quite|kinda|pretty|so|etwas|sehr|un peu|très|muy|un poco|"
    r"erg|een beetje)\s+)?"
)

# Phrases saying the legs are fine, blanked before anything is looked for.
NEGATIONS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(?:no|zero|without|not\s+any|free\s+of|never\s+any)\s+(?:\w+\s+){0,2}?"
        r"(?:pain|pains|niggles?|soreness|aches?|tightness|hurt)\b",
        r"\bpain[-\s]?free\b",
        r"\bpainless(?:ly)?\b",
        r"\b(?:nothing|didn'?t|did\s+not|doesn'?t|does\s+not|no\s+longer|not)\s+(?:\w+\s+)?(?:hurts?|ache|sore)\b",
        r"\bkeine?n?\s+(?:\w+\s+)?(?:schmerz(?:en)?|beschwerden|muskelkater)\b",
        r"\bschmerzfrei\b",
        r"\b(?:sans|pas\s+de|aucune?)\s+(?:\w+\s+)?(?:douleurs?|courbatures?|gêne)\b",
        r"\b(?:sin|ningún|ninguna|nada\s+de)\s+(?:\w+\s+)?(?:dolor(?:es)?|molestias?|agujetas)\b",
        r"\bno\s+me\s+duele\b",
        r"\b(?:geen|zonder)\s+(?:\w+\s+)?(?:pijn|spierpijn|klachten)\b",
        r"\bpijnvrij\b",
    )
)


@dataclass(frozen=True, slots=True)
class TextPattern:
    kind: CheckInKind
    regex: re.Pattern[str]


def _p(kind: CheckInKind, pattern: str) -> TextPattern:
    return TextPattern(kind, re.compile(pattern, re.IGNORECASE))


PAIN, KNEE_ACHE, UNSTABLE, TIGHT, SORE = (
    CheckInKind.PAIN,
    CheckInKind.KNEE_ACHE,
    CheckInKind.KNEE_UNSTABLE,
    CheckInKind.TIGHT,
    CheckInKind.SORE,
)
_HURTS = r"(?:hurts|hurt|hurting|is\s+hurting|was\s+hurting|is\s+killing\s+me|killing\s+me)"
_FELT = r"(?:felt|feel|feels|feeling|was|were|is|are|went|got|getting)\s+"

TEXT_PATTERNS: tuple[TextPattern, ...] = (
    # The back of the knee aching is its own check-in (a knee massager on low), whatever follows.
    _p(
        KNEE_ACHE,
        r"\b(?:back\s+of\s+(?:the\s+|my\s+)?knee|behind\s+(?:the\s+|my\s+)?knee)s?\s+"
        r"(?:aches|ached|aching|is\s+aching|was\s+aching|hurts?|hurting|(?:is|was|felt)\s+(?:sore|achy))",
    ),
    _p(KNEE_ACHE, r"\b(?:achy|aching)\s+(?:back\s+of\s+(?:the\s+|my\s+)?)?knees?\b"),
    _p(KNEE_ACHE, rf"\bknees?\s+{_FELT}?{_A_BIT}(?:aches|ached|aching|achy)\b"),
    _p(KNEE_ACHE, r"\bkniekehle\s+(?:tut\s+weh|schmerzt|zieht)\b"),
    _p(KNEE_ACHE, r"\b(?:derrière|arrière)\s+du\s+genou\b"),
    _p(KNEE_ACHE, r"\bknieholte\b"),
    # An unstable knee: a brace, not a massager.
    _p(UNSTABLE, rf"\b{_MY}?{_SIDE}knees?\s+{_FELT}{_A_BIT}(?:wobbly|unstable|weak|loose|shaky|wonky)\b"),
    _p(UNSTABLE, r"\b(?:wobbly|unstable|shaky|wonky)\s+knees?\b"),
    _p(UNSTABLE, r"\bknees?\s+(?:gave\s+(?:way|out)|buckled|giving\s+way)\b"),
    _p(
        UNSTABLE,
        r"\b(?:wackelige[sn]?|instabile[sn]?)\s+knie\b|\bknie\s+(?:war|ist|fühlte\s+sich)\s+"
        r"(?:\w+\s+)?(?:wackelig|instabil)\b",
    ),
    _p(UNSTABLE, r"\bgenou\s+(?:instable|qui\s+lâche)\b|\brodilla\s+inestable\b|\binstabiele\s+knie\b"),
    # Sharp, acute pain: no massage or rolling for 72 h.
    _p(
        PAIN, rf"\b(?:sharp|stabbing|shooting|acute|sudden)\s+pain(?:\s+(?:in|on|at)\s+{_MY}?{_SIDE}{_BODY})?"
    ),
    _p(PAIN, rf"\bpain\s+(?:in|on|at)\s+{_MY}{_SIDE}{_BODY}\b"),
    _p(PAIN, rf"\b{_MY}?{_SIDE}{_BODY}\s+(?:{_HURTS}|pain|is\s+painful|was\s+painful)\b"),
    _p(PAIN, rf"\b(?:hurt|injured|tweaked|pulled|strained|twisted|rolled|sprained)\s+{_MY}{_SIDE}{_BODY}\b"),
    _p(PAIN, r"\b(?:shin\s+splints|stress\s+fracture)\b"),
    _p(
        PAIN,
        rf"\b(?:stechende[rn]?\s+)?schmerz(?:en)?\s+(?:im|in\s+der|in\s+den|am|an\s+der)\s+{_SIDE}{_BODY}\b",
    ),
    _p(PAIN, rf"\b{_MY}?{_SIDE}{_BODY}\s+(?:tut|tun|tat|taten)\s+weh\b"),
    _p(PAIN, rf"\b{_BODY}\s+schmerz(?:t|en|te)\b"),
    _p(
        PAIN,
        rf"\b(?:douleur|douleurs)\s+(?:vive\s+|aiguë\s+)?(?:au|à\s+la|aux|à\s+l'|dans\s+(?:le|la|les))\s*{_SIDE}{_BODY}\b",
    ),
    _p(PAIN, rf"\bmal\s+(?:au|à\s+la|aux|à\s+l')\s*{_BODY}\b"),
    _p(PAIN, rf"\bdolor\s+(?:agudo\s+|fuerte\s+)?(?:en|de)\s+{_MY}?{_BODY}\b"),
    _p(PAIN, rf"\bme\s+duele(?:n)?\s+{_MY}?{_BODY}\b"),
    _p(PAIN, rf"\bpijn\s+(?:in|aan)\s+{_MY}?{_SIDE}{_BODY}\b"),
    _p(PAIN, rf"\b{_BODY}\s+doet\s+(?:zeer|pijn)\b"),
    _p(PAIN, r"\bsharp\s+pain\b|\bstechende[rn]?\s+schmerz(?:en)?\b|\bdouleur\s+vive\b|\bdolor\s+agudo\b"),
    # Tight: heat and a little foot massage before the next runs.
    _p(TIGHT, rf"\btight\s+{_BODY}\b"),
    _p(TIGHT, rf"\b{_MY}?{_SIDE}{_BODY}\s+{_FELT}{_A_BIT}tight\b"),
    _p(TIGHT, rf"\b(?:verspannte?[nr]?|feste?[nr]?|harte?[nr]?)\s+{_BODY}\b"),
    _p(TIGHT, rf"\b{_BODY}\s+(?:waren|war|sind|ist)\s+{_A_BIT}(?:fest|verspannt|hart|zu)\b"),
    _p(TIGHT, rf"\b{_BODY}\s+(?:tendus?|tendues?|raides?|durs?)\b"),
    _p(TIGHT, rf"\b{_BODY}\s+(?:cargad[oa]s?|tens[oa]s?|contracturad[oa]s?)\b"),
    _p(TIGHT, rf"\b(?:stijve|strakke)\s+{_BODY}\b"),
    # Sore, or a small niggle: nothing suppressed, noted for the day.
    _p(SORE, rf"\bniggles?\b(?:\s+(?:in|on)\s+{_MY}?{_SIDE}{_BODY}\b)?"),
    _p(SORE, rf"\bniggly\s+{_BODY}\b"),
    _p(SORE, rf"\bsore\s+{_BODY}\b"),
    _p(SORE, rf"\b{_MY}?{_BODY}\s+{_FELT}{_A_BIT}sore\b"),
    _p(SORE, r"\b(?:doms|muskelkater|courbatures?|agujetas|spierpijn)\b"),
)

# An activity's words speak of the legs after it: ones older than this no longer say how they are now.
FRESH_FOR = timedelta(hours=48)
MAX_QUOTE = 120


@dataclass(frozen=True, slots=True)
class Finding:
    kind: CheckInKind
    area: str | None
    words: str  # as the runner wrote them


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def findings(text: str) -> list[Finding]:
    """The check-ins the text speaks of, one per kind, in the order of TEXT_PATTERNS."""
    original = " ".join(text.split())  # one line: a description's line breaks never split a quote oddly
    work = original
    for negation in NEGATIONS:
        for negated in negation.finditer(work):
            work = _blank(work, negated.start(), negated.end())
    found: dict[CheckInKind, Finding] = {}
    for row in TEXT_PATTERNS:
        match = row.regex.search(work)
        if match is None:
            continue
        work = _blank(work, match.start(), match.end())
        if row.kind in found:
            continue
        word = match.groupdict().get("area")
        area = _AREA_OF.get(word.lower()) if word else None
        if row.kind == CheckInKind.KNEE_ACHE or row.kind == CheckInKind.KNEE_UNSTABLE:
            area = "knee"
        quote = original[match.start() : match.end()].strip()[:MAX_QUOTE]
        found[row.kind] = Finding(row.kind, area, quote)
    return list(found.values())


def activity_findings(raw: Mapping[str, object]) -> list[Finding]:
    """The findings of a Strava activity's name, description and private note (one per kind)."""
    parts = [raw.get(key) for key in ("name", "description", "private_note")]
    seen: dict[CheckInKind, Finding] = {}
    for part in parts:
        if isinstance(part, str) and part.strip():
            for finding in findings(part):
                seen.setdefault(finding.kind, finding)
    return list(seen.values())


def still_fresh(activity_end: datetime, now: datetime) -> bool:
    """Whether an activity's words still say how the legs are now."""
    return now - activity_end <= FRESH_FOR


def reason(finding: Finding) -> str:
    return f'Strava: "{finding.words}"'
