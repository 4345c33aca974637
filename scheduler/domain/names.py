"""What an activity's name (or description) says about the effort, read through tables of patterns.

The tables are data: each row is a cue and a regular expression, matched case-insensitively. They are applied
in the order of `NAME_PATTERNS`, and each match is blanked out of the text before the next row looks, so an
earlier row can claim words a later one would misread: "race pace" is a workout target, not a race; "long
intervals" are intervals, not a long run; "+ 6x100 strides" leaves an easy run easy; "Course à pied" is just
French for running.

Cues:
- RACE: the run was an event ("Grandma's Marathon", "parkrun #123", "County XC Championships", "3rd AG",
  "PR").
- WORKOUT: a structured hard session ("6x800", "Tempo", "Intervalle", "fractionné", "2x2@MP", "Yasso 800s").
- LONG: the athlete's long run ("LR 18mi", "Sortie longue", "Tirada larga", "Longão").
- EASY: easy, recovery, shakeout, commute runs ("Footing", "Dauerlauf", "Rodaje", "duurloop").
- WARMUP: a warm-up or cool-down recorded on its own ("WU", "cool down", "Einlaufen", "calentamiento").
- NOT_RACE: the athlete was there but not racing ("paced Sarah", "with my daughter", "sweeper").

A weaker race signal comes from event-like context (`event_context`): a distance with a finish time or a
proper name ("Toronto Yonge 10K", "Shamrock Shuffle 8K 31:40"), or a race-ish word with a place or a distance
("Carrera de la Mujer", "Stadtlauf 10 km", "Zevenheuvelenloop 15 km"), or "at the 10K".

Strava's automatic names ("Morning Run", "Morgenlauf", "Carrera matutina" …) carry no signal at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Cue(StrEnum):
    RACE = "race"
    WORKOUT = "workout"
    LONG = "long"
    EASY = "easy"
    WARMUP = "warmup"
    NOT_RACE = "not_race"
    NEUTRAL = "neutral"  # claims words so later rows don't misread them; says nothing itself


@dataclass(frozen=True, slots=True)
class NamePattern:
    cue: Cue
    regex: re.Pattern[str]
    # A weak workout word ("track", "hills") gives way to a race word in the same name ("Track meet").
    weak: bool = False


def _p(cue: Cue, pattern: str, weak: bool = False) -> NamePattern:
    return NamePattern(cue, re.compile(pattern, re.IGNORECASE), weak)


_TIME_OF_DAY_EN = r"(?:early morning|morning|lunch|afternoon|evening|night)"

# Strava's automatic names, per language; matched against the whole (trimmed) name.
AUTOMATIC_NAMES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"{_TIME_OF_DAY_EN}(?: trail| treadmill| virtual)? run",
        r"(?:morgen|vormittags|mittags|nachmittags|abend|nacht)(?:lauf|-traillauf|-trail-lauf)",
        r"course (?:à|a) pied(?: (?:le|la|du|de|dans|en|à|a|au)\b.*)?",
        r"course (?:matinale|du matin|du midi|de l'après-midi|du soir|de nuit|nocturne)",
        r"carrera(?: a pie)? (?:matutina|matinal|por la mañana|de mañana|a la hora del almuerzo|al mediodía|"
        r"por la tarde|de tarde|vespertina|por la noche|de noche|nocturna)",
        r"corsa (?:mattutina|del mattino|all'ora di pranzo|a pranzo|pomeridiana|del pomeriggio|serale|"
        r"della sera|notturna|della notte)",
        r"(?:ochtend|middag|namiddag|avond|nacht)(?:loop|run|hardloopsessie)",
        r"corrida (?:matinal|matutina|da manhã|de manhã|na hora do almoço|ao meio-dia|vespertina|à tarde|"
        r"da tarde|noturna|à noite|da noite)",
        r"(?:trail )?run|running|treadmill|treadmill run|virtual run|jogging session",
    )
)

# A multisport race's run, or a relay's leg: a race even when run slower than easy after the swim and bike.
_LEG = r"tri(?:athlon)?|duathlon|aquathlon|ironman|70\.3|t2 run|run (?:leg|split)|relay leg|ekiden"
_LEG_RE = re.compile(rf"\b(?:{_LEG})\b", re.IGNORECASE)
_DIST = r"\d+(?:[.,]\d+)?\s*(?:k|km|mi|miles?|m)\b"
_ORD = r"\d+\s*(?:st|nd|rd|th)"

# Order matters: each row blanks what it matched before the next row reads the text.
NAME_PATTERNS: tuple[NamePattern, ...] = (
    # --- words that must not be read as anything else
    _p(Cue.NEUTRAL, r"\bwith runna\b|\brunna\b|✅|☑️|✔️"),
    _p(Cue.NEUTRAL, r"\bcourse (?:à|a) pied\b|\bcarrera a pie\b|\bcorrida de rua\b"),
    _p(Cue.NEUTRAL, r"\bcross[- ]?train(?:ing|er)?\b|\bcrossfit\b"),
    # strides, drills and accelerations at the end of an easy run do not make it a workout
    _p(
        Cue.NEUTRAL,
        r"(?:\+\s*|\bw/\s*|\bwith\s+|\band\s+|\bmit\s+|\bavec\s+|\bcon\s+|\bmet\s+|\bcom\s+)?"
        r"(?:\d+\s*[x×]\s*(?:\d+\s*(?:m|s|sec|\"|''|’’)?\s*)?)?"
        r"\b(?:strides?|striders|steigerungen|steigerungsläufen?|lignes? droites|accélérations|"
        r"acceleraciones|"
        r"progresivos|allunghi|versnellingen|acelerações|educativos|drills|sprintjes)\b"
        r"(?:\s*\d+\s*[x×]\s*(?:\d+\s*(?:m|s|sec)?)?)?",
    ),
    _p(
        Cue.NEUTRAL,
        r"\b(?:pre|post|after|before|next|upcoming|goal)[- ]?race\b|\brace[- ]?(?:practice|prep|preparation|"
        r"week|eve|recce|recon|rehearsal|kit|day)\b",
    ),
    _p(
        Cue.NEUTRAL,
        r"\b(?:(?:half[- ]?)?marathon|halbmarathon|hm|10k|5k|ultra|race|trail)\s+"
        r"(?:training|build|block|prep|"
        r"plan|program(?:me)?|cycle)\b|\b(?:training|prep|preparing|prepping|building)\s+(?:for|towards)\b.*",
    ),
    _p(Cue.NEUTRAL, r"\b(?:mlr|medium[- ]long(?: run)?)\b"),
    # an event still to come ("marathon in 3 weeks", "big race Sunday") says nothing about today's run
    _p(
        Cue.NEUTRAL,
        r"\b(?:big |next |goal |a |the |my )?(?:(?:half[- ]?)?marathon|race|hm|10k|5k|ultra|parkrun)"
        r"(?:\s+(?:is|was))?\s+(?:in\s+(?:\d+|a|an|one|two|three|four|five|six)\s+(?:days?|weeks?|months?)|"
        r"(?:\d+|one|two|three|four|five|six)\s+(?:days?|weeks?)\s+(?:out|away|to go)|tomorrow|"
        r"(?:on |this |next )?(?:saturday|sunday|weekend|monday)\b)",
    ),
    # half-mile repeats and "halves" are a workout, not a half marathon
    _p(Cue.WORKOUT, r"\b(?:alternating\s+)?half[- ]?miles?(?:\s+(?:repeats?|reps))?\b|\bhalves\b"),
    # --- warm-ups and cool-downs recorded as their own activity
    _p(
        Cue.WARMUP,
        r"\b(?:wu|w/u|warm[- ]?up|warming[- ]up|cd|c/d|cool[- ]?down|cooling[- ]down|einlaufen|auslaufen|"
        r"aufwärmen|échauffement|echauffement|retour au calme|calentamiento|vuelta a la calma|enfriamiento|"
        r"riscaldamento|defaticamento|defaticante|inlopen|uitlopen|aquecimento|desaquecimento)\b",
    ),
    # --- there, but not racing
    _p(
        Cue.NOT_RACE,
        r"\bpac(?:ed|ing|er|ers)\b|\bpacemaker\b|\bpace (?:group|bunny)\b|\bsweep(?:er|ing)?\b|"
        r"\btail (?:runner|walker)\b|"
        r"\bmeneur d'allure\b|\bliebre\b|\blepre\b|\bzugläufer\b|\btempomacher\b|\bmarshal(?:l?ing)?\b|"
        r"\bwith (?:my|our) (?:daughter|son|kids?|children|wife|husband|partner|mum|mom|dad|mother|father|"
        r"girlfriend|boyfriend|niece|nephew|grandson|granddaughter)\b|\bjogged\b|\bfun run\b",
    ),
    # social context carries no signal, and the names in it are not event names
    _p(
        Cue.NEUTRAL,
        r"\b(?:with|w/|mit|avec|con|met|com)\s+(?:the |my |our |la |le |il |de |die |der )?[\w'’-]+",
    ),
    # a race series is a race, not Spanish "series" (intervals)
    _p(
        Cue.RACE,
        r"\b(?:race|running|summer|winter|spring|autumn|fall|xc|cross[- ]country|grand prix)\s+series\b|"
        r"\bseries\s+#\d+",
    ),
    # --- workouts: pace targets first ("race pace" is a target, not a race)
    _p(
        Cue.WORKOUT,
        r"\b(?:race|marathon|half[- ]?marathon|half|hm|10k|5k|goal|tempo|threshold|lt|mp|hmp|gmp|interval|cv|"
        r"critical velocity)[- ]pace\b|@\s*(?:mp|hmp|gmp|m|hm|t|lt|i|r|cv|5k|10k|tempo|threshold|goal|race|"
        r"\d{1,2}[:.]\d{2})(?![\w])|\b(?:mp|hmp|gmp)\b|\brace sim(?:ulation)?\b",
    ),
    _p(Cue.WORKOUT, r"\blong\s+(?:intervals?|reps|repeats|tempo|hills?|hill repeats|fartlek)\b"),
    # interval notation: 6x800, 5 x (3x300m), 2x2@MP, 4 x 1 mile, 10x1'/1', x8, 8x, 30/30, 400s, Yasso 800s
    _p(Cue.WORKOUT, r"\b\d+\s*[x×]\s*\(?\s*\d[\w.,'’\"/@:()-]*(?:\s*(?:mi|mile|miles|km|k|m|min|sec|s)\b)?"),
    _p(Cue.WORKOUT, r"(?<![\w.])[x×]\s*\d+\b|\b\d+\s*[x×](?=\s|$|[,.;)])"),
    _p(
        Cue.WORKOUT,
        r"\b\d+\s*['’′]\s*/\s*\d+\s*['’′]?|\b(?:10|15|20|30|40|45|60|90)\s*/\s*(?:10|15|20|30|40|45|60|90)\b",
    ),
    _p(Cue.WORKOUT, r"\b(?:\d{3,4}|[1-5]k)s\b"),
    _p(
        Cue.WORKOUT,
        r"\b(?:repeats?|reps|repetitions?|wiederholungen|intervall?(?:s|e|en|le|os|es|i|o)?|intervalado|"
        r"fartlek|fahrtspiel|tempo(?:lauf|dauerlauf|duurloop|run|runs)?|threshold|schwelle(?:nlauf)?|seuil|"
        r"umbral|soglia|drempel(?:training)?|limiar|lactate|cruise|yasso|ladder|pyramid|pyramide|pirámide|"
        r"piramide|cutdown|vo2\s?max|vo2|vma|speedwork|speed work|workout|fractionn[ée]s?|fractionne|séance|"
        r"s[eé]ries|ripetute|tiros|cambios de ritmo|progressi(?:on|ve|vo|va|f|v)|progresivo|progressão|"
        r"steigerungslauf|crescendo|treino intervalado)\b",
    ),
    _p(
        Cue.WORKOUT,
        r"\b(?:track|bahn(?:training)?|piste|pista|baan(?:training)?|hills|hill\s*(?:repeats?|reps|sprints?|"
        r"session|workout|intervals?)|bergsprints?|bergintervalle|berganläufe|hügelsprints|côtes|cotes|cuestas|"
        r"subidas|salite|heuvel(?:training|sprints)?|sprints?|speed)\b",
        weak=True,
    ),
    # --- long runs
    _p(
        Cue.LONG,
        r"\b(?:long|longrun|lr|lsr|lsd|langer (?:dauer)?lauf|lange[rn]? (?:dauer)?lauf|langdauerlauf|"
        r"sortie longue|sl|tirada(?: larga)?|rodaje largo|largo|lung(?:o|hissimo|hetto)|lange duurloop|"
        r"lange loop|duurloop lang|longão|longao|longo|longa|back[- ]to[- ]back|b2b)\b",
    ),
    # --- races
    _p(
        Cue.RACE,
        r"\b(?:rac(?:e|es|ed|ing)|wettkampf|wettlauf|rennen|competition|compétition|competición|competição|"
        r"competizione|gara|wedstrijd|carrera popular|xc|cross[- ]?country|cross|crosslauf|campestre|"
        r"veldloop|"
        r"meet|invitational|championships?|champs|meisterschaft(?:en)?|championnats?|campeonato|campionato|"
        r"kampioenschap(?:pen)?|time[- ]?trial|tt|p[rb]|personal (?:best|record)|bestzeit|"
        r"record perso(?:nnel)?|"
        r"marca personal|mejor marca|recorde pessoal|persoonlijk record|primato personale|bq|podium|bib|"
        r"startnummer|dossard|dorsal|pettorale|chip time|gun time|official time|"
        rf"{_LEG})\b|"
        r"park\s?run\b|"
        r"[🏅🥇🥈🥉🏆]",
    ),
    _p(
        Cue.RACE,
        rf"\b{_ORD}\s+(?:place|overall|oa|ag|age group|woman|women|female|male|man|men|in (?:ag|age group|"
        rf"category))\b|\b(?:ag|age group|overall|oa|category)\s+(?:win|winner|podium|{_ORD})\b|"
        r"\b\d+\.?\s*platz\b|\b\d+(?:e|ème|er)\s+place\b|\b\d+[º°ª]\s*(?:lugar|puesto|posto|geral)\b",
    ),
    _p(
        Cue.RACE,
        r"\b(?:half[- ]?marathon|halbmarathon|semi[- ]?marathon|semi|media marat[oó]n|medio marat[oó]n|"
        r"mezza maratona|mezza|halve marathon|meia maratona|meia|marathon|marat[oó]n|maratona|"
        r"ultra[- ]?marathon|"
        r"ultra[- ]?trail|ultra|(?:50|60|80|100|160)\s?k|(?:50|100)\s?(?:mile|mi|miler)s?|"
        r"trail (?:de|des|du|de la|del|della|do|da))\b",
    ),
    # --- easy running
    _p(
        Cue.EASY,
        r"\b(?:easy(?:-ish)?|ez|recovery|recup|récup|récupération|recuperación|recuperacion|recuperação|"
        r"regenerati(?:v|vo|ve|on)|regenerationslauf|rigenerante|rigenerativo|reg|erholung(?:slauf)?|"
        r"herstel(?:loop)?|shake[- ]?out|jog|jogging|joggen|trote|footing|rodaje|rodagem|leve|suave|"
        r"locker(?:e[rn]?)?|ruhig(?:e[rn]?)?|dauerlauf|ga1|grundlage|duurloop|rustig(?:e)?|lent[oaie]|slow|"
        r"z2|zone 2|aerobic|base|facile|fácil|tranquille|tranquilo|sciolt[oa]|doux|commute|run commute|"
        r"run (?:to|from) work|run home|zur arbeit|arbeitsweg|double)\b",
    ),
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Race-ish words that also just mean "a run" (carrera, corrida, course, corsa) or make event names
# ("Stadtlauf", "Zevenheuvelenloop", "Turkey Trot"): a race only together with a distance, a time or a place.
_EVENT_WORD = re.compile(
    r"\b(?:carrera|corrida|course|corsa|prova|trot|trophy|trofeo|trophée|troféu|cup|copa|coppa|memorial|"
    r"classic|grand prix|loppet|silvester|sylvestre|silvestre|foulées|stadtlauf|volkslauf|citylauf|"
    r"firmenlauf|berglauf|[a-zäöüß]{3,}lauf|[a-z]{3,}loop|shuffle|challenge|dash|ragnar|hood to coast)\b",
    re.IGNORECASE,
)
# Compounds of "-lauf"/"-loop" that are ordinary training runs, not events.
_TRAINING_COMPOUNDS = _words(
    """
    dauerlauf tempolauf tempodauerlauf regenerationslauf erholungslauf waldlauf morgenlauf abendlauf
    mittagslauf nachtlauf nachmittagslauf trainingslauf steigerungslauf intervalllauf crescendolauf
    langdauerlauf
    schwellenlauf duurloop herstelloop tempoduurloop ochtendloop middagloop avondloop nachtloop looptraining
    namiddagloop hardloop
    """
)
_DISTANCE = re.compile(rf"\b{_DIST}|\b(?:hm|half|10 ?mile|5 ?mile)\b", re.IGNORECASE)
_FINISH_TIME = re.compile(
    r"(?<![@x×/:\d])\b\d{1,2}:\d{2}(?::\d{2})?\b(?!\s*/|\s*(?:min)?\s*(?:/|per)\s*(?:km|mi))"
)
_AT_EVENT = re.compile(rf"\bat (?:the )?(?:{_DIST}|half|hm)", re.IGNORECASE)
_PLACE_LINK = re.compile(r"\b(?:de|des|du|del|della|di|do|da|dos|das|van|von)\s+(?:la |le |l')?[A-ZÀ-Ý]")
_WORD = re.compile(r"[A-Za-zÀ-ÿ][\w'’.-]*")
# Words that start many training names capitalised and say nothing about an event.
_VOCABULARY = _words(
    """
    run runs running jog trail road track treadmill morning afternoon evening night lunch early late am pm
    the a an and in at of to on for my our first last new back week day today km mi miles mile monday
    tuesday wednesday thursday friday saturday sunday weekend quick short nice good great hot cold rainy
    windy snowy wet lauf laufen montag dienstag mittwoch donnerstag freitag samstag sonntag lundi mardi
    mercredi jeudi vendredi samedi dimanche lunes martes miércoles jueves viernes sábado domingo lunedì
    martedì mercoledì giovedì venerdì sabato domenica maandag dinsdag woensdag donderdag vrijdag zaterdag
    zondag segunda terça quarta quinta sexta solo loop loops route out home work virtual zwift indoor
    outdoor garmin strava test just another more some club group team session training double single heat
    sun rain snow wind hill hills hilly flat park beach river lake forest woods course carrera corrida corsa
    k m tempo easy long
    """
)


@dataclass(frozen=True, slots=True)
class Found:
    cue: Cue
    text: str  # as written in the name
    weak: bool = False
    at: int = 0  # where in the name, to report cues in the order the athlete wrote them


@dataclass(frozen=True, slots=True)
class NameReading:
    automatic: bool
    found: tuple[Found, ...]

    def has(self, cue: Cue) -> bool:
        return any(f.cue == cue for f in self.found)

    def first(self, cue: Cue) -> Found | None:
        return next((f for f in self.found if f.cue == cue), None)

    def all_of(self, cue: Cue) -> str:
        """Every text that carried `cue`, in the order written: "Intervalle, 5x1000"."""
        return ", ".join(f.text for f in sorted(self.found, key=lambda f: f.at) if f.cue == cue)

    @property
    def decisive(self) -> bool:
        """True when the text says something about the effort (neutral words and pacing alone do not)."""
        return any(f.cue not in (Cue.NEUTRAL, Cue.NOT_RACE) for f in self.found)


def is_race_leg(text: str) -> bool:
    """A triathlon's (or duathlon's, a relay's) run: raced, though tired legs make it look easy."""
    return _LEG_RE.search(text) is not None


def is_automatic_name(name: str) -> bool:
    """Strava's own "Morning Run" and its translations: the athlete never named the activity."""
    trimmed = re.sub(r"[\s\W_]+$|^[\s\W_]+", "", name.strip())
    return trimmed == "" or any(p.fullmatch(trimmed) for p in AUTOMATIC_NAMES)


def read_name(text: str) -> NameReading:
    """The cues in a name or description, in table order, each with the words that carried it."""
    if is_automatic_name(text):
        return NameReading(automatic=True, found=())
    # lower() keeps positions for the scripts runners write in, so matches map back to the original text.
    lowered = text.lower()
    original = text if len(lowered) == len(text) else lowered
    work = lowered
    found: list[Found] = []
    for pattern in NAME_PATTERNS:
        for match in pattern.regex.finditer(work):
            if not match.group(0).strip():
                continue
            if pattern.cue != Cue.NEUTRAL:
                said = original[match.start() : match.end()].strip().rstrip(",.;:-")
                found.append(Found(pattern.cue, said, pattern.weak, match.start()))
            work = work[: match.start()] + " " * (match.end() - match.start()) + work[match.end() :]
    # The original text with every claimed character blanked: what is left for context to speak.
    unclaimed = "".join(" " if w == " " else o for o, w in zip(original, work, strict=True))
    event = event_context(unclaimed)
    if event is not None:
        found.append(Found(Cue.RACE, event, weak=True, at=len(text)))
    return NameReading(automatic=False, found=tuple(found))


def event_context(unclaimed: str) -> str | None:
    """A race told by context rather than a race word, in the words no table claimed (as written)."""
    distance = _DISTANCE.search(unclaimed)
    finish = _FINISH_TIME.search(unclaimed)
    event_word = next(
        (m for m in _EVENT_WORD.finditer(unclaimed) if m.group(0).lower() not in _TRAINING_COMPOUNDS), None
    )
    proper = _proper_noun(unclaimed)
    place = _PLACE_LINK.search(unclaimed)
    pieces: list[str] = []
    if finish and (distance or event_word or proper):
        pieces = [m.group(0) for m in (event_word, distance, finish) if m is not None]
        if not event_word and not distance and proper:
            pieces.insert(0, proper)
    elif event_word and (distance or proper or place):
        pieces = [event_word.group(0)] + ([distance.group(0)] if distance else [])
    elif distance and proper:
        pieces = [proper, distance.group(0)]
    elif at_event := _AT_EVENT.search(unclaimed):
        pieces = [at_event.group(0)]
    return " ".join(pieces) if pieces else None


def _proper_noun(unclaimed: str) -> str | None:
    """A capitalised word left unclaimed that is not ordinary running vocabulary: likely a place or event."""
    for match in _WORD.finditer(unclaimed):
        word = match.group(0)
        plain = word.lower().strip(".")
        if not word[0].isupper() or plain in _VOCABULARY or plain in _TRAINING_COMPOUNDS:
            continue
        if len(word) <= 3 and word.isupper():  # abbreviations such as "WU", "LR", "AM"
            continue
        return word
    return None
