"""Held-out evaluation of effort classification on hand-written athlete logs.

The set (bench/data/holdout_eval.json) was written by someone who had not read the classifier: six athletes
with different naming habits, each a chronological log of Strava SummaryActivity objects labelled by a coach
("expected"), some with the laps GET /activities/{id} would return ("detail"). This script replays each log
the way ingestion does: every activity is classified against the athlete's earlier activities; when the
summary cannot decide and the activity has laps, the detail is "fetched" (counted) and the activity
re-classified with its laps. The first `history_weeks` weeks of each log are history and are not scored.

    .venv/bin/python bench/holdout_eval.py [--show-errors] [--athlete KEY] [--no-detail] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler.domain.activity import Activity, parse_activity, parse_timezone  # noqa: E402
from scheduler.domain.effort import Classification, classify_series  # noqa: E402
from scheduler.domain.profile import AthleteProfile  # noqa: E402

DATA = ROOT / "bench" / "data" / "holdout_eval.json"
CLASSES = ("race", "speedwork", "long_run", "easy", "other")
RUN_CLASSES = ("race", "speedwork", "long_run", "easy")  # macro-F1 is over these
LABEL_KEYS = ("expected", "detail", "note")  # ours, not Strava's: stripped before parsing
PROFILE_KEYS = ("max_hr", "rest_hr", "threshold_hr")


@dataclass(frozen=True)
class Outcome:
    athlete: str
    raw: dict[str, Any]
    local_start: datetime
    expected: str
    predicted: str
    reasons: tuple[str, ...]
    decided_from_summary: bool
    read_detail: bool
    scored: bool


def strava_fields(raw: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in raw.items() if key not in LABEL_KEYS}


def profile_of(athlete: dict[str, Any]) -> AthleteProfile:
    given = athlete.get("profile") or {}
    unknown = set(given) - set(PROFILE_KEYS)
    if unknown:
        raise SystemExit(f"{athlete['key']}: unsupported profile keys {sorted(unknown)}")
    return AthleteProfile(**given)


def replay(athlete: dict[str, Any], history_weeks: int, use_detail: bool) -> list[Outcome]:
    """Classify one athlete's log in order, each activity against the ones stored before it."""
    profile = profile_of(athlete)
    raws = sorted(athlete["activities"], key=lambda raw: raw["start_date"])
    key = athlete["key"]
    stored: list[Activity] = []
    outcomes: list[Outcome] = []
    for index, raw in enumerate(raws):
        where = f"{key}[{index}]"
        summary = parse_activity(strava_fields(raw), where)
        zone = ZoneInfo(parse_timezone(raw["timezone"], where))
        scored_from = datetime.combine(
            date.fromisoformat(athlete["log_start"]) + timedelta(weeks=history_weeks), time(0), zone
        )
        result: Classification = classify_series([*stored, summary], profile)[-1]
        decided_from_summary = result.decided
        read_detail = False
        kept = summary
        laps = (raw.get("detail") or {}).get("laps")
        if use_detail and not result.decided and laps:
            read_detail = True
            kept = parse_activity({**strava_fields(raw), "laps": laps}, where)
            result = classify_series([*stored, kept], profile)[-1]
        stored.append(kept)
        outcomes.append(
            Outcome(
                athlete=key,
                raw=raw,
                local_start=summary.start_date.astimezone(zone),
                expected=raw["expected"],
                predicted=str(result.effort.value),
                reasons=tuple(result.reasons),
                decided_from_summary=decided_from_summary,
                read_detail=read_detail,
                scored=summary.start_date >= scored_from,
            )
        )
    return outcomes


@dataclass(frozen=True)
class Scores:
    per_class: dict[str, tuple[float, float, float, int]]  # precision, recall, F1, support
    macro_f1: float
    accuracy: float
    confusion: dict[str, Counter[str]]
    count: int


def score(outcomes: list[Outcome]) -> Scores:
    confusion: dict[str, Counter[str]] = {label: Counter() for label in CLASSES}
    for outcome in outcomes:
        confusion[outcome.expected][outcome.predicted] += 1
    per_class: dict[str, tuple[float, float, float, int]] = {}
    for label in CLASSES:
        true_pos = confusion[label][label]
        predicted = sum(row[label] for row in confusion.values())
        support = sum(confusion[label].values())
        precision = true_pos / predicted if predicted else 0.0
        recall = true_pos / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = (precision, recall, f1, support)
    right = sum(confusion[label][label] for label in CLASSES)
    return Scores(
        per_class=per_class,
        macro_f1=sum(per_class[label][2] for label in RUN_CLASSES) / len(RUN_CLASSES),
        accuracy=right / len(outcomes) if outcomes else 0.0,
        confusion=confusion,
        count=len(outcomes),
    )


def wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson interval of a proportion: with a few dozen activities per class the point figure alone
    overstates what the set can show."""
    if trials == 0:
        return (0.0, 0.0)
    share = successes / trials
    centre = (share + z * z / (2 * trials)) / (1 + z * z / trials)
    spread = (
        z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    )
    return (max(0.0, centre - spread), min(1.0, centre + spread))


def pace_per_km(raw: dict[str, Any]) -> str:
    speed = raw.get("average_speed") or 0.0
    if speed <= 0:
        return "  -  "
    seconds = round(1000 / speed)
    return f"{seconds // 60}:{seconds % 60:02d}"


def describe(outcome: Outcome) -> str:
    raw = outcome.raw
    heart = raw.get("average_heartrate")
    heart_text = f"HR {heart:.0f}/{raw.get('max_heartrate')}" if heart else "no HR"
    flags = [flag for flag in ("trainer", "commute", "manual") if raw.get(flag)]
    laps = " laps" if outcome.read_detail else ""
    return (
        f"{outcome.athlete:<28} {outcome.local_start:%Y-%m-%d %a %H:%M}  {raw['name'][:44]:<44} "
        f"{raw['sport_type']:<10} {raw['distance'] / 1000:5.1f} km {raw['moving_time'] / 60:5.0f} min "
        f"{pace_per_km(raw)}/km {heart_text:<11} {' '.join(flags)}{laps}\n"
        f"    expected {outcome.expected:<9} got {outcome.predicted:<9} {'; '.join(outcome.reasons)}"
        + (f"\n    note: {raw['note']}" if raw.get("note") else "")
    )


def print_scores(title: str, scores: Scores) -> None:
    right = round(scores.accuracy * scores.count)
    low, high = wilson(right, scores.count)
    print(f"\n{title}: {scores.count} activities scored")
    print(
        f"  macro-F1 (race, speedwork, long_run, easy) {scores.macro_f1:.3f}   "
        f"accuracy {scores.accuracy:.3f} (95% CI {low:.3f}-{high:.3f})"
    )
    print(f"  {'class':<10} {'precision':>9} {'recall':>7} {'recall 95% CI':>14} {'F1':>6} {'support':>8}")
    for label in CLASSES:
        precision, recall, f1, support = scores.per_class[label]
        low, high = wilson(scores.confusion[label][label], support)
        print(f"  {label:<10} {precision:9.3f} {recall:7.3f} {low:6.3f}-{high:.3f} {f1:6.3f} {support:8d}")


def print_confusion(scores: Scores) -> None:
    print("\nconfusion (rows: expected, columns: predicted)")
    print(f"  {'':<10}" + "".join(f"{label:>10}" for label in CLASSES))
    for label in CLASSES:
        print(f"  {label:<10}" + "".join(f"{scores.confusion[label][other]:>10}" for other in CLASSES))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--athlete", action="append", help="only this athlete key (repeatable)")
    parser.add_argument("--show-errors", action="store_true", help="list every misclassified activity")
    parser.add_argument("--no-detail", action="store_true", help="never read laps: summaries only")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)

    document = json.loads(args.data.read_text(encoding="utf-8"))
    history_weeks = int(document["history_weeks"])
    athletes = [a for a in document["athletes"] if not args.athlete or a["key"] in args.athlete]
    if not athletes:
        parser.error("no such athlete")

    outcomes: list[Outcome] = []
    for athlete in athletes:
        outcomes.extend(replay(athlete, history_weeks, use_detail=not args.no_detail))
    scored = [outcome for outcome in outcomes if outcome.scored]
    overall = score(scored)
    by_athlete = {a["key"]: score([o for o in scored if o.athlete == a["key"]]) for a in athletes}
    undecided = sum(1 for outcome in scored if not outcome.decided_from_summary)
    undecided_without_laps = sum(
        1 for outcome in scored if not outcome.decided_from_summary and not outcome.raw.get("detail")
    )
    detail_reads = sum(1 for outcome in scored if outcome.read_detail)
    all_detail_reads = sum(1 for outcome in outcomes if outcome.read_detail)

    if args.json:
        print(
            json.dumps(
                {
                    "scored": overall.count,
                    "macro_f1": round(overall.macro_f1, 4),
                    "accuracy": round(overall.accuracy, 4),
                    "per_class": {
                        label: dict(zip(("precision", "recall", "f1", "support"), values, strict=True))
                        for label, values in overall.per_class.items()
                    },
                    "confusion": {label: dict(row) for label, row in overall.confusion.items()},
                    "undecided_from_summary": undecided,
                    "undecided_without_laps": undecided_without_laps,
                    "detail_reads_scored": detail_reads,
                    "detail_reads_all": all_detail_reads,
                    "per_athlete": {
                        key: {
                            "scored": s.count,
                            "macro_f1": round(s.macro_f1, 4),
                            "accuracy": round(s.accuracy, 4),
                        }
                        for key, s in by_athlete.items()
                    },
                },
                indent=1,
            )
        )
        return 0

    print(
        f"held-out set: {len(athletes)} athletes, {len(outcomes)} activities, "
        f"first {history_weeks} weeks of each log are history"
    )
    print_scores("overall" + (" (summaries only)" if args.no_detail else ""), overall)
    print_confusion(overall)
    print(
        f"\nundecided from the summary: {undecided} of {overall.count} scored "
        f"({undecided_without_laps} of them without laps to read); "
        f"detail reads: {detail_reads} scored ({all_detail_reads} including history)"
    )
    print("\nper athlete")
    for key, athlete_scores in by_athlete.items():
        print(
            f"  {key:<28} {athlete_scores.count:4d} scored  macro-F1 {athlete_scores.macro_f1:.3f}  "
            f"accuracy {athlete_scores.accuracy:.3f}"
        )
    errors = [outcome for outcome in scored if outcome.predicted != outcome.expected]
    if args.show_errors:
        print(f"\nmisclassified ({len(errors)})")
        for outcome in errors:
            print(describe(outcome))
    else:
        print(f"\n{len(errors)} misclassified: --show-errors lists them")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
