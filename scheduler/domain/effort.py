"""Effort classification: which kind of run an activity was, and why.

`classify(activity, history, profile)` reads the signals below in this order; the first that decides wins,
and later ones only settle what earlier ones left open:

1. Not a run (`sport_type` other than Run, TrailRun, VirtualRun) → other.
2. Strava's `workout_type` on a run: 1 race, 2 long run, 3 workout (speedwork); 0 or null says nothing.
3. The name, else the description when the name says nothing (tables in `names.py`):
   - a long-run word wins over workout and race words in the same name ("LR 16 w/ 8 @ MP" is a long run);
   - workout words win over easy words ("Easy 3 + tempo 20'" is speedwork); strides never make a workout;
   - race words win unless a workout notation goes with them ("parkrun tempo", but "Track meet" is a race);
     a race name is checked against heart rate and pace, because runners also jog races: a race under 25 km
     and 2.5 h whose heart rate (or, without heart rate, pace) was at easy level is easy (or a long run);
   - race words with pacing, "with my daughter", easy or warm-up words: heart rate and pace decide between
     race and easy/long;
   - a warm-up or cool-down on its own is easy, even on race day;
   - easy words make it easy, unless the run was clearly long (≥ 90 min and long by rule 6);
   - Strava's commute flag counts as an easy word;
   - automatic names ("Morning Run", "Morgenlauf" …) say nothing;
   - a triathlon's run or a relay leg is a race whatever its pace;
   - a race word at a moderate heart rate and an easy pace is not a race; a name that only looks like an
     event's (a distance beside a capitalised word: "18mi CPTC") needs a hard effort, or a moderate one
     over a race distance, to be a race, else the numbers decide.
4. Heart rate relative to the athlete: the average as a share of max HR (profile, else estimated from
   history: see `load.py`): ≥ 89% race level, ≥ 84% hard, ≥ 80% moderate; when the athlete's recent runs
   give a typical average HR, the level is also capped by the ratio to it (≥ 1.15 race, ≥ 1.08 hard,
   ≥ 1.04 moderate), so that a max HR estimated from easy runs only cannot make every run look hard.
   Heart rate and pace disagreeing on the flat counts as moderate: a hard heart rate at an easy pace (heat,
   illness, a glitching strap), or an easy average heart rate at a pace ≥ 10% faster than easy (a workout's
   warm-up and recoveries pull its average down).
5. Pace (climb-adjusted) relative to the athlete's easy pace over the last 42 days, when there is no heart
   rate: ≥ 15% faster race level, ≥ 10% hard, ≥ 5% moderate.
6. Duration and distance relative to the athlete: long when ≥ 75 min and ≥ 1.5× the median run of the last
   28 days; ≥ 90 min with fewer than 4 runs in those 28 days; always from 2.5 h or 30 km.
7. Laps, when present: alternating fast and slow laps, a tempo block or a progression → speedwork; an even,
   race-level effort → race.
   Peaks beside averages: a max HR ≥ 90% of max and ≥ 8% of max above the average, with a top speed that
   shows faster running (or a hilly route), means hard efforts inside → speedwork; without heart rate, a top
   speed ≥ 1.25× the average on a quicker-than-easy run does, unless laps say otherwise. Without heart rate a
   treadmill's pace counts at most as moderate.
   Together: a hard, even effort (peak close to the average) over a race distance, a marathon or 50K run
   quicker than easy at a moderate heart rate, race level over a standard race distance (5K … marathon,
   50K), or a hard long run over a half or full marathon → race; otherwise long → long run; hard →
   speedwork; nothing decisive → easy.

`decided` is False when the summary could not decide and laps (fetched with the DetailedActivity) likely
would: a run with no telling name or tag, no laps yet, and a moderate or hard effort, or no way to judge its
effort at all (no heart rate, no recent runs to compare its pace with).

`unsure_of` names the other class when the signals disagree: a moderate average without laps (easy, or a
workout's average pulled down by recoveries?), a hard one without laps (a workout, or a steady hard run?),
a race name run at an easy effort, a race level off the standard distances, a long run with hard efforts
inside or only just long by the month's median, a race told by pace alone, laps without a clear structure.
Its sentence ("unsure: long run or race?") ends the reasons, which are all a stored class keeps.

The runner's own classes (corrections, and Strava's Race/Workout tags) calibrate the heart-rate levels of
rule 4 to the athlete: `calibration.py`.

`load` is Banister's TRIMP (formula in `load.py`), None without heart rate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from itertools import groupby

from scheduler.domain.activity import Activity
from scheduler.domain.calibration import (
    NO_CALIBRATION,
    Calibration,
    LabelWindow,
    calibration_of,
    hard_level,
    race_level,
)
from scheduler.domain.history import (
    DURATION_WINDOW,
    Baseline,
    RunWindow,
    adjusted_pace,
    baseline_of,
    plausible_max_hr,
)
from scheduler.domain.laps import LapPattern, LapReading, format_pace, read_laps
from scheduler.domain.load import HeartRateScale, heart_rate_scale, training_load
from scheduler.domain.names import Cue, Found, NameReading, is_race_leg, read_name
from scheduler.domain.profile import AthleteProfile


class Effort(StrEnum):
    RACE = "race"
    SPEEDWORK = "speedwork"
    LONG_RUN = "long_run"
    EASY = "easy"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Classification:
    effort: Effort
    reasons: tuple[str, ...]
    load: float | None
    # False when the summary alone could not decide and laps (DetailedActivity) would help.
    decided: bool = True
    # The other class the signals leave open when they disagree; its sentence ends the reasons.
    unsure_of: Effort | None = None


LABELS = {
    Effort.RACE: "race",
    Effort.SPEEDWORK: "speedwork",
    Effort.LONG_RUN: "long run",
    Effort.EASY: "easy run",
    Effort.OTHER: "not a run",
}
_UNSURE = re.compile(r"unsure: (.+) or (.+)\?")


def unsure_reason(effort: Effort, other: Effort) -> str:
    return f"unsure: {LABELS[effort]} or {LABELS[other]}?"


def unsure_between(reasons: Sequence[str]) -> tuple[Effort, Effort] | None:
    """The two classes a stored classification hesitated between (its `unsure_reason`), else None.

    The stored reasons are all that is kept of a classification, so the sentence is read back from them.
    """
    by_label = {label: effort for effort, label in LABELS.items()}
    for reason in reasons:
        match = _UNSURE.fullmatch(reason)
        if match and match.group(1) in by_label and match.group(2) in by_label:
            return by_label[match.group(1)], by_label[match.group(2)]
    return None


_Says = Callable[[Found], str]


class Level(IntEnum):
    EASY = 0
    MODERATE = 1
    HARD = 2
    RACE = 3


WORKOUT_TYPES = {1: (Effort.RACE, "Race"), 2: (Effort.LONG_RUN, "Long Run"), 3: (Effort.SPEEDWORK, "Workout")}
RACE_DISTANCES: tuple[tuple[float, str], ...] = (
    (5000.0, "5K"),
    (8000.0, "8K"),
    (10000.0, "10K"),
    (15000.0, "15K"),
    (16093.4, "10-mile"),
    (21097.5, "half marathon"),
    (42195.0, "marathon"),
    (50000.0, "50K"),
)
LONG_RACE_DISTANCES = frozenset({"half marathon", "marathon", "50K"})
MARATHON_DISTANCES = frozenset({"marathon", "50K"})
# Certified courses measure short on a GPS watch rarely and long often.
DISTANCE_UNDER, DISTANCE_OVER = 0.015, 0.04
HR_LEVELS = ((0.89, Level.RACE), (0.84, Level.HARD), (0.80, Level.MODERATE))
TYPICAL_HR_LEVELS = ((1.15, Level.RACE), (1.08, Level.HARD), (1.04, Level.MODERATE))
PACE_LEVELS = ((1.15, Level.RACE), (1.10, Level.HARD), (1.05, Level.MODERATE))
HILLY_METRES_PER_KM = 15.0
MIN_RACE_SECONDS = 12 * 60
MIN_UNDECIDED_SECONDS = 15 * 60
LONG_MINUTES, LONG_RATIO, LONG_MINUTES_NO_HISTORY = 75.0, 1.5, 90.0
ALWAYS_LONG_MINUTES, ALWAYS_LONG_METRES = 150.0, 30000.0
JOGGED_RACE_MAX_METRES = 25000.0
# Hard efforts inside a run whose average hides them (a workout's recoveries, warm-up and cool-down): the
# heart rate peaked near max, well above the average. Easy runs with strides rarely pass 85-88% of max.
SURGE_PEAK_SHARE, SURGE_GAP_SHARE = 0.90, 0.08
# Without heart rate: top speed well above the average on a run already quicker than easy.
SURGE_SPEED_RATIO = 1.25
SURGE_SPEED_BACKING = 1.15  # a heart-rate peak is believed when the top speed shows faster running too
# An even effort: peak heart rate close to the average and no fast bursts, as in a race.
EVEN_GAP_SHARE, EVEN_SPEED_RATIO = 0.07, 1.16


def classify(
    activity: Activity,
    history: Sequence[Activity],
    profile: AthleteProfile,
    labels: Mapping[int, str] | None = None,
) -> Classification:
    """Classify one activity; `history` is the athlete's earlier activities, any order, any length.

    `labels`: the runner's own classes by activity id (their corrections), which calibrate the levels.
    """
    before = activity.start_date
    calibration = calibration_of(history, before, labels or {})
    return classify_with_baseline(activity, baseline_of(history, before), profile, calibration)


def classify_series(
    activities: Sequence[Activity],
    profile: AthleteProfile,
    history: Sequence[Activity] = (),
    labels: Mapping[int, str] | None = None,
) -> list[Classification]:
    """Classify many activities of one athlete, each with the earlier ones as history, in O(n).

    Results come back in the order given; the activities need not be sorted. `history`: earlier activities
    that only carry the baselines forward and are not classified themselves (a backfill page's stored year),
    so the result for each activity is the same as classifying `[*history, *activities]` and keeping theirs.
    `labels`: the runner's corrections, as for `classify`.
    """
    combined = [*activities, *history]
    wanted = len(activities)  # indices below it are classified
    order = sorted(range(len(combined)), key=lambda i: combined[i].start_date)
    results: dict[int, Classification] = {}
    window, labelled = RunWindow(), LabelWindow(labels or {})
    for _, same_start in groupby(order, key=lambda i: combined[i].start_date):
        group = list(same_start)  # activities starting together are not each other's history
        classified = [i for i in group if i < wanted]
        if classified:
            start = combined[group[0]].start_date
            baseline, calibration = window.baseline(start), labelled.calibration(start)
            for i in classified:
                results[i] = classify_with_baseline(combined[i], baseline, profile, calibration)
        for i in group:
            window.add(combined[i])
            labelled.add(combined[i])
    return [results[i] for i in range(wanted)]


def classify_with_baseline(
    activity: Activity,
    baseline: Baseline,
    profile: AthleteProfile,
    calibration: Calibration = NO_CALIBRATION,
) -> Classification:
    scale = heart_rate_scale(profile, baseline, activity) if activity.has_heartrate else None
    load = training_load(activity, scale)
    if not activity.is_run:
        return Classification(Effort.OTHER, (f"not a run ({activity.sport_type})",), load)
    signals = _measure(activity, baseline, scale, calibration)
    verdict = _by_tag(activity) or _by_words(activity, signals) or _by_numbers(activity, baseline, signals)
    reasons, unsure = verdict.reasons, verdict.unsure
    if unsure is not None and unsure != verdict.effort:
        reasons = (*reasons, unsure_reason(verdict.effort, unsure))
    else:
        unsure = None
    return Classification(verdict.effort, reasons, load, verdict.decided, unsure)


@dataclass(frozen=True, slots=True)
class _Verdict:
    effort: Effort
    reasons: tuple[str, ...]
    decided: bool = True
    unsure: Effort | None = None  # the class the signals also point to, when they disagree


@dataclass(frozen=True, slots=True)
class _Signals:
    """What the numbers say, each with the sentence that explains it."""

    level: Level | None  # heart rate if known, else pace; None when neither can be judged
    level_reasons: tuple[str, ...]
    pace_level: Level | None
    long_reason: str | None
    race_distance: str | None
    distance_reason: str | None
    hilly: bool
    surges: str | None = None  # the sentence saying hard efforts hide inside the average, if they do
    even: bool = False  # peak heart rate (or top speed) close to the average: one steady effort


def _measure(
    activity: Activity, baseline: Baseline, scale: HeartRateScale | None, calibration: Calibration
) -> _Signals:
    hilly = (
        activity.distance >= 1.0  # metres: below that a climb per km means nothing (and may divide by 0)
        and activity.total_elevation_gain * 1000 / activity.distance > HILLY_METRES_PER_KM
    )
    hr_level, hr_reason = _heart_rate_level(activity, baseline, scale, calibration)
    pace_level, pace_reason = _pace_level(activity, baseline, hilly)
    if activity.trainer and hr_level is None and pace_level is not None and pace_level > Level.MODERATE:
        # Treadmills measure distance 10-20% off: without heart rate their pace cannot show a race.
        pace_level = Level.MODERATE
        pace_reason = f"{pace_reason}, but a treadmill's pace is too rough to call it hard"
    level, reasons = hr_level, tuple(r for r in (hr_reason, pace_reason) if r)
    if hr_level is None:
        level = pace_level
    elif hr_level >= Level.HARD and pace_level == Level.EASY and not hilly and pace_reason:
        level, reasons = Level.MODERATE, (f"{hr_reason}, yet", pace_reason)
    elif hr_level == Level.EASY and pace_level is not None and pace_level >= Level.HARD and not hilly:
        # Warm-up, recoveries and cool-down pull a workout's average HR down; its pace still shows.
        level, reasons = Level.MODERATE, (f"{hr_reason}, yet", pace_reason or "")
    race_distance = _race_distance(activity.distance)
    distance_reason = (
        f"{activity.distance / 1000:.2f} km is a standard {race_distance} race distance"
        if race_distance
        else None
    )
    surges, even = _spread(activity, scale, pace_level, hilly)
    return _Signals(
        level,
        reasons,
        pace_level,
        _long_reason(activity, baseline),
        race_distance,
        distance_reason,
        hilly,
        surges,
        even,
    )


def _spread(
    activity: Activity, scale: HeartRateScale | None, pace_level: Level | None, hilly: bool
) -> tuple[str | None, bool]:
    """What the peaks say beside the averages: hidden hard efforts (a sentence), or one even effort."""
    speed_ratio = (
        activity.max_speed / activity.average_speed
        if activity.max_speed and activity.average_speed and not activity.trainer
        else None
    )
    peak = plausible_max_hr(activity)
    if scale is not None and activity.average_heartrate and peak is not None:
        top, gap = scale.fraction_of_max(peak), (peak - activity.average_heartrate) / scale.max_hr
        # A strap that locks on to cadence peaks too, but without any faster running to go with it.
        quicker = (
            hilly
            or (speed_ratio is not None and speed_ratio >= SURGE_SPEED_BACKING)
            or (speed_ratio is None and pace_level is not None and pace_level >= Level.MODERATE)
        )
        if top >= SURGE_PEAK_SHARE and gap >= SURGE_GAP_SHARE and quicker:
            return (
                f"max HR {peak:.0f} = {top:.0%} of max, {peak - activity.average_heartrate:.0f} above the "
                "average: hard efforts inside",
                False,
            )
        return None, gap <= EVEN_GAP_SHARE and (speed_ratio is None or speed_ratio <= EVEN_SPEED_RATIO)
    if speed_ratio is None:
        return None, False
    if speed_ratio >= SURGE_SPEED_RATIO and pace_level is not None and pace_level >= Level.MODERATE:
        return (
            f"top speed {speed_ratio:.1f}× the average on a quicker-than-easy run: faster efforts inside",
            False,
        )
    return None, speed_ratio <= EVEN_SPEED_RATIO


def _heart_rate_level(
    activity: Activity, baseline: Baseline, scale: HeartRateScale | None, calibration: Calibration
) -> tuple[Level | None, str | None]:
    if scale is None or activity.average_heartrate is None:
        return None, None
    average = activity.average_heartrate
    share = scale.fraction_of_max(average)
    race, hard = race_level(calibration, scale.max_hr), hard_level(calibration, scale.max_hr)
    levels = (
        (race.share if race else HR_LEVELS[0][0], Level.RACE),
        (hard.share if hard else HR_LEVELS[1][0], Level.HARD),
        HR_LEVELS[2],
    )
    level, usual = _level(share, levels), _level(share, HR_LEVELS)
    reason = f"average HR {average:.0f} = {share:.0%} of {scale.describe()}"
    if level != usual:  # the athlete's own labelled runs moved the level: say whose level it is
        mover, what = (race, "races") if max(level, usual) == Level.RACE else (hard, "workouts")
        if mover is not None:
            reason += f"; your {what} run at {mover.typical:.0%} of max HR"
    if baseline.typical_hr:
        ratio = average / baseline.typical_hr
        capped = _level(ratio, TYPICAL_HR_LEVELS)
        if capped < level:
            level = capped
            reason += f", but only {ratio:.2f}× your typical {baseline.typical_hr:.0f}"
    return level, reason


def _pace_level(activity: Activity, baseline: Baseline, hilly: bool) -> tuple[Level | None, str | None]:
    pace = adjusted_pace(activity)
    if pace is None or baseline.easy_pace is None:
        return None, None
    quicker = baseline.easy_pace / pace
    what = "climb-adjusted pace" if hilly else "pace"
    if abs(quicker - 1) < 0.01:
        comparison = "the same as"
    elif quicker > 1:
        comparison = f"{quicker - 1:.0%} faster than"
    else:
        comparison = f"{1 / quicker - 1:.0%} slower than"
    reason = f"{what} {format_pace(pace)} is {comparison} your easy {format_pace(baseline.easy_pace)}"
    return _level(quicker, PACE_LEVELS), reason


def _level(value: float, thresholds: tuple[tuple[float, Level], ...]) -> Level:
    return next((level for bound, level in thresholds if value >= bound), Level.EASY)


def _race_distance(metres: float) -> str | None:
    for distance, name in RACE_DISTANCES:
        if distance * (1 - DISTANCE_UNDER) <= metres <= distance * (1 + DISTANCE_OVER):
            return name
    return None


def _long_reason(activity: Activity, baseline: Baseline) -> str | None:
    minutes = activity.moving_time / 60
    if activity.distance >= ALWAYS_LONG_METRES:
        km = activity.distance / 1000
        return f"{km:.1f} km: from {ALWAYS_LONG_METRES / 1000:g} km a run is always long"
    if minutes >= ALWAYS_LONG_MINUTES:
        return f"{minutes:.0f} min: from {ALWAYS_LONG_MINUTES / 60:g} h a run is always long"
    if baseline.median_duration is not None:
        ratio = activity.moving_time / baseline.median_duration
        if minutes >= LONG_MINUTES and ratio >= LONG_RATIO:
            window = DURATION_WINDOW.days
            return f"{minutes:.0f} min is {ratio:.1f}× your median run of the last {window} days"
        return None
    if minutes >= LONG_MINUTES_NO_HISTORY:
        least = f"{LONG_MINUTES_NO_HISTORY:g} min"
        return f"{minutes:.0f} min, and too few recent runs to compare: from {least} a run counts as long"
    return None


def _by_tag(activity: Activity) -> _Verdict | None:
    tagged = WORKOUT_TYPES.get(activity.workout_type or 0)
    if tagged is None:
        return None
    effort, label = tagged
    return _Verdict(effort, (f"tagged {label} on Strava",))


def _by_words(activity: Activity, signals: _Signals) -> _Verdict | None:
    reading, source = read_name(activity.name), "name"
    if not reading.decisive and activity.description:
        described = read_name(activity.description)
        if described.decisive:
            reading, source = described, "description"

    def says(found: Found) -> str:
        if found.cue == Cue.WORKOUT:  # "Tempo, @ T" says more than either alone
            return f"{source} mentions {reading.all_of(Cue.WORKOUT)}"
        return f"{source} mentions {found.text}"

    race, workout, long = (
        _strongest(reading, Cue.RACE),
        _strongest(reading, Cue.WORKOUT),
        reading.first(Cue.LONG),
    )
    easy, warmup, not_race = reading.first(Cue.EASY), reading.first(Cue.WARMUP), reading.first(Cue.NOT_RACE)
    if long is not None:
        extra = (f"{says(workout)} within it",) if workout else ()
        return _Verdict(Effort.LONG_RUN, (says(long), *extra))
    if workout is not None and not (race is not None and workout.weak and not race.weak):
        return _Verdict(Effort.SPEEDWORK, (says(workout),))
    if race is not None:
        qualifier = not_race or warmup or easy
        if qualifier is not None:
            return _qualified_race(race, qualifier, says, signals)
        if is_race_leg(race.text):
            return _Verdict(Effort.RACE, (says(race), "the run of a multisport race or a relay leg"))
        if _ran_easy(activity, signals):
            effort = Effort.LONG_RUN if signals.long_reason else Effort.EASY
            return _Verdict(
                effort,
                (says(race), "but it was run at an easy effort:", *signals.level_reasons),
                unsure=Effort.RACE,
            )
        if race.weak and not _raced(signals):
            return None  # a distance beside a club, a shop or a place: the numbers decide
        return _Verdict(Effort.RACE, (says(race),))
    if warmup is not None:
        return _Verdict(Effort.EASY, (says(warmup),))
    if easy is not None:
        if signals.long_reason and activity.moving_time >= LONG_MINUTES_NO_HISTORY * 60:
            return _Verdict(Effort.LONG_RUN, (says(easy), f"but {signals.long_reason}"))
        return _Verdict(Effort.EASY, (says(easy),))
    if activity.commute:
        return _Verdict(Effort.EASY, ("marked as a commute on Strava",))
    return None


def _strongest(reading: NameReading, cue: Cue) -> Found | None:
    matches = [f for f in reading.found if f.cue == cue]
    return next((f for f in matches if not f.weak), matches[0] if matches else None)


def _qualified_race(race: Found, qualifier: Found, says: _Says, signals: _Signals) -> _Verdict:
    """A race name with pacing, family, easy or warm-up words: the effort itself decides."""
    if signals.level == Level.RACE:
        return _Verdict(Effort.RACE, (says(race), *signals.level_reasons))
    effort = Effort.LONG_RUN if signals.long_reason and qualifier.cue != Cue.WARMUP else Effort.EASY
    extra = (
        (signals.long_reason,) if effort == Effort.LONG_RUN and signals.long_reason else signals.level_reasons
    )
    # One level short of racing: the pacing or family words may be about someone else's race.
    unsure = Effort.RACE if signals.level == Level.HARD else None
    return _Verdict(effort, (says(qualifier), f"not racing {race.text}", *extra), unsure=unsure)


def _ran_easy(activity: Activity, signals: _Signals) -> bool:
    """A race name on a run at easy effort (a jogged parkrun); not long races, which look easy by nature.

    A moderate heart rate counts as easy when the pace was easy too: a race is run faster than training.
    """
    if activity.distance >= JOGGED_RACE_MAX_METRES or activity.moving_time >= ALWAYS_LONG_MINUTES * 60:
        return False
    if signals.level == Level.MODERATE:
        return signals.pace_level == Level.EASY and not signals.hilly
    if signals.level != Level.EASY:
        return False
    return signals.pace_level in (None, Level.EASY) and not (signals.pace_level is None and signals.hilly)


def _raced(signals: _Signals) -> bool:
    """Whether the effort backs a name that only looks like an event's (a distance beside a proper noun)."""
    if signals.level is None:
        return True  # nothing to check it against: the name is all there is
    if signals.level >= Level.HARD:
        return True
    return signals.level == Level.MODERATE and (
        signals.race_distance is not None
        or (signals.pace_level is not None and signals.pace_level >= Level.HARD)
    )


def _by_numbers(activity: Activity, baseline: Baseline, signals: _Signals) -> _Verdict:
    """No tag, no telling name: heart rate, pace, duration and laps decide."""
    level, why = signals.level, signals.level_reasons
    laps = read_laps(activity.laps, baseline.easy_pace, signals.hilly) if activity.laps else None
    can_fetch = not activity.laps and not activity.manual and activity.moving_time >= MIN_UNDECIDED_SECONDS
    long = signals.long_reason
    if laps is not None and laps.pattern in (LapPattern.INTERVALS, LapPattern.TEMPO, LapPattern.PROGRESSION):
        if long and laps.pattern != LapPattern.INTERVALS:
            return _Verdict(Effort.LONG_RUN, (long, laps.reason))
        return _Verdict(Effort.SPEEDWORK, (laps.reason, *why))
    race = _race_by_numbers(activity, signals, laps, can_fetch)
    if race is not None:
        return race
    if long:
        # Long only by the ratio to a month's median, and under 90 min: a longer easy run, perhaps.
        borderline = (
            activity.moving_time < LONG_MINUTES_NO_HISTORY * 60 and activity.distance < ALWAYS_LONG_METRES
        )
        unsure = Effort.SPEEDWORK if signals.surges else Effort.EASY if borderline else None
        return _Verdict(Effort.LONG_RUN, (long, *why), unsure=unsure)
    by_heart = activity.has_heartrate
    if signals.surges and (
        laps is None or (by_heart and laps.pattern in (LapPattern.EASY, LapPattern.MIXED))
    ):
        # Auto-laps every km or mile blur a session's structure; the heart rate's peak still shows it. A top
        # speed alone may be strides or a GPS spike: laps, when there are any, decide.
        return _Verdict(
            Effort.SPEEDWORK,
            (signals.surges, *why, *((laps.reason,) if laps else ())),
            decided=by_heart or not can_fetch,
            unsure=None if by_heart or laps else Effort.EASY,  # a top speed alone may be a GPS spike
        )
    if level is None:
        if laps is not None:
            return _Verdict(Effort.EASY, (laps.reason,))
        if can_fetch:
            return _Verdict(
                Effort.EASY,
                ("no heart rate and too few recent runs to judge the pace: laps would tell",),
                decided=False,
            )
        return _Verdict(Effort.EASY, ("nothing says hard or long",))
    if level == Level.EASY:
        return _Verdict(Effort.EASY, (*why, laps.reason) if laps else why)
    if laps is not None and laps.pattern == LapPattern.EVEN_FAST and activity.trainer and not by_heart:
        return _Verdict(Effort.EASY, (*why, "even laps on a treadmill, whose pace is too rough to call hard"))
    return _hard_or_moderate(level, why, signals, laps, can_fetch)


def _race_by_numbers(
    activity: Activity, signals: _Signals, laps: LapReading | None, can_fetch: bool
) -> _Verdict | None:
    level, why = signals.level, signals.level_reasons
    if level is None or activity.moving_time < MIN_RACE_SECONDS:
        return None
    even = laps is not None and laps.pattern == LapPattern.EVEN_FAST
    if (
        level >= Level.HARD
        and signals.distance_reason
        and signals.even
        and (laps is None or even)
        and not signals.long_reason
    ):
        # An event named only by itself ("Corporate Challenge") run hard and even over a race distance; by
        # pace alone, a steady tempo over the same distance looks the same.
        return _Verdict(
            Effort.RACE,
            (*why, signals.distance_reason, "one even effort, as in a race"),
            unsure=None if activity.has_heartrate else Effort.SPEEDWORK,
        )
    if (
        signals.race_distance in MARATHON_DISTANCES
        and level >= Level.MODERATE
        and signals.pace_level is not None
        and signals.pace_level >= Level.MODERATE
    ):
        # Nobody trains over a marathon quicker than easy: a marathon's heart rate is moderate by nature.
        return _Verdict(Effort.RACE, (*why, signals.distance_reason or ""))
    if level == Level.RACE and signals.distance_reason:
        return _Verdict(
            Effort.RACE, (*why, signals.distance_reason, *((laps.reason,) if even and laps else ()))
        )
    if level >= Level.HARD and signals.long_reason and signals.race_distance in LONG_RACE_DISTANCES:
        return _Verdict(Effort.RACE, (*why, f"{signals.distance_reason}, {signals.long_reason}"))
    if level == Level.RACE:
        if even and laps is not None:
            return _Verdict(Effort.RACE, (*why, laps.reason))
        if laps is None and can_fetch:
            return _Verdict(
                Effort.RACE,
                (*why, "not a standard race distance: laps would tell a race from a workout"),
                decided=False,
                unsure=Effort.SPEEDWORK,
            )
        if laps is None or signals.long_reason:
            return _Verdict(Effort.RACE, why)
    return None


def _hard_or_moderate(
    level: Level, why: tuple[str, ...], signals: _Signals, laps: LapReading | None, can_fetch: bool
) -> _Verdict:
    if laps is None:
        # Without laps, a hard average may be a steady long effort and a moderate one a workout's.
        if level >= Level.HARD:
            ask = ("a hard effort; laps would show its structure",) if can_fetch else ()
            return _Verdict(Effort.SPEEDWORK, (*why, *ask), decided=not can_fetch, unsure=Effort.EASY)
        ask = ("a moderate effort; laps would tell a workout",) if can_fetch else ()
        return _Verdict(Effort.EASY, (*why, *ask), decided=not can_fetch, unsure=Effort.SPEEDWORK)
    if laps.pattern == LapPattern.EASY:
        return _Verdict(Effort.EASY, (laps.reason, *why))
    if laps.pattern == LapPattern.EVEN_FAST:
        # Even laps a little quicker than easy, without heart rate: a steady run on a good day, perhaps.
        unsure = None if signals.pace_level is None or signals.pace_level >= Level.RACE else Effort.EASY
        return _Verdict(Effort.SPEEDWORK, (laps.reason, *why), unsure=unsure)
    # Laps without a clear structure: the average effort decides, and it may be wrong either way.
    if level >= Level.HARD or (signals.pace_level is not None and signals.pace_level >= Level.MODERATE):
        return _Verdict(Effort.SPEEDWORK, (*why, laps.reason), unsure=Effort.EASY)
    return _Verdict(Effort.EASY, (*why, laps.reason), unsure=Effort.SPEEDWORK)
