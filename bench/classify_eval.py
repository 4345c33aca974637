"""Scores effort classification against hand-labelled training logs, and times a 5-year backfill.

    .venv/bin/python bench/classify_eval.py [--show-errors]

The evaluation set (bench/data/classify_eval.json, written by bench/make_classify_eval.py) holds the logs of
several synthetic athletes. Each log is classified in order, every activity seeing the earlier ones as its
history, like `recovery sync --backfill` does. When a summary leaves the classifier undecided, the script does
what the Strava sync does: it adds the DetailedActivity's laps and description and classifies again, and
counts that as one detail read. Only activities after an athlete's first weeks are scored (the first weeks
are their history). Prints per-class precision/recall/F1, macro-F1 over race/speedwork/long_run/easy, the
confusion matrix, the same with every run renamed "Morning Run" (a stress test: only heart rate, pace,
duration and laps left), and the CPU time of classifying 5 years of one athlete's runs.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scheduler.domain.activity import Activity, parse_activity
from scheduler.domain.effort import Classification, Effort, classify, classify_series
from scheduler.domain.planning import plan_activity
from scheduler.domain.profile import AthleteProfile
from scheduler.domain.protocols import default_protocols_path, load_protocols

DATA = Path(__file__).parent / "data" / "classify_eval.json"
SCORED = (Effort.RACE, Effort.SPEEDWORK, Effort.LONG_RUN, Effort.EASY)
CLASSES = (*SCORED, Effort.OTHER)


def with_detail(activity: Activity, raw: dict[str, Any]) -> Activity:
    detail = raw.get("detail") or {}
    parsed = parse_activity({**raw, **detail}, "detail")
    return replace(activity, laps=parsed.laps, description=parsed.description)


def evaluate(show_errors: bool, names: bool = True) -> tuple[list[tuple[str, str]], int, int]:
    """Classify every log; with `names=False` every run is renamed "Morning Run" (numbers and laps only)."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    pairs: list[tuple[str, str]] = []  # (expected, predicted)
    summary_pairs: list[tuple[str, str]] = []
    reads = 0
    for athlete in data["athletes"]:
        profile = AthleteProfile(**athlete["profile"])
        raws: list[dict[str, Any]] = athlete["activities"]
        if not names:
            raws = [
                {**raw, "name": "Morning Run", "detail": {"laps": (raw.get("detail") or {}).get("laps", [])}}
                if raw["sport_type"] in ("Run", "TrailRun", "VirtualRun")
                else raw
                for raw in raws
            ]
        acts = [parse_activity({k: v for k, v in raw.items() if k != "detail"}, "eval") for raw in raws]
        results = classify_series(acts, profile)
        for i, (raw, act, result) in enumerate(zip(raws, acts, results, strict=True)):
            if not raw["scored"]:
                continue
            final: Classification = result
            if not result.decided and raw.get("detail"):
                reads += 1
                final = classify(with_detail(act, raw), acts[:i], profile)
            summary_pairs.append((raw["label"], result.effort.value))
            pairs.append((raw["label"], final.effort.value))
            if show_errors and final.effort.value != raw["label"]:
                km, minutes = act.distance / 1000, act.moving_time / 60
                hr = f" HR {act.average_heartrate:.0f}" if act.average_heartrate else ""
                print(
                    f"  {athlete['athlete']:7} {act.start_date:%Y-%m-%d} {act.name[:38]!r:40} {km:5.1f} km "
                    f"{minutes:4.0f} min{hr}: expected {raw['label']}, got {final.effort.value}"
                    f"{' (after laps)' if not result.decided else ''}\n      " + "; ".join(final.reasons)
                )
    if names:
        print_scores("summary only (no detail reads)", summary_pairs)
    return pairs, reads, len(pairs)


def print_scores(title: str, pairs: Sequence[tuple[str, str]]) -> float:
    print(f"\n{title}: {len(pairs)} activities")
    print(f"  {'class':10} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}")
    f1s: list[float] = []
    for effort in CLASSES:
        cls = effort.value
        tp = sum(1 for e, p in pairs if e == cls and p == cls)
        fp = sum(1 for e, p in pairs if e != cls and p == cls)
        fn = sum(1 for e, p in pairs if e == cls and p != cls)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if effort in SCORED:
            f1s.append(f1)
        print(f"  {cls:10} {precision:9.3f} {recall:7.3f} {f1:6.3f} {tp + fn:8d}")
    macro = sum(f1s) / len(f1s)
    accuracy = sum(1 for e, p in pairs if e == p) / len(pairs)
    print(f"  macro-F1 (race, speedwork, long_run, easy): {macro:.3f}   accuracy: {accuracy:.3f}")
    return macro


def print_confusion(pairs: Sequence[tuple[str, str]]) -> None:
    counts = Counter(pairs)
    names = [c.value for c in CLASSES]
    print("\nconfusion (rows: expected, columns: predicted)")
    print("  " + " " * 10 + "".join(f"{n[:9]:>10}" for n in names))
    for e in names:
        print(f"  {e:10}" + "".join(f"{counts[(e, p)]:10d}" for p in names))


def synthetic_years(years: int = 5, seed: int = 42) -> list[Activity]:
    """~6 runs a week plus some rides for `years` years: easy, workouts, long runs, the odd race."""
    rng = random.Random(seed)
    start = datetime(2019, 1, 7, 6, 30, tzinfo=UTC)
    acts: list[Activity] = []
    names = ["Morning Run", "Easy 8k", "Intervals 6x800", "Long run", "Evening Run", "Tempo 5k", "parkrun"]
    for day in range(years * 365):
        when = start + timedelta(days=day, minutes=rng.randint(-60, 60))
        kind = day % 7
        if kind == 0 and rng.random() < 0.3:
            acts.append(
                Activity(
                    id=len(acts) + 1,
                    name="Evening Ride",
                    sport_type="Ride",
                    start_date=when,
                    elapsed_time=3600,
                    moving_time=3500,
                    distance=30000.0,
                )
            )
            continue
        if kind == 0:
            continue
        km = {6: rng.uniform(18, 28), 1: 11.0, 3: 12.0}.get(kind, rng.uniform(6, 11))
        pace = {1: 300.0, 3: 290.0}.get(kind, 340.0) * rng.uniform(0.96, 1.04)
        hr = {1: 158.0, 3: 160.0}.get(kind, 142.0) + rng.uniform(-5, 5)
        name = names[kind] if rng.random() < 0.5 else "Morning Run"
        acts.append(
            Activity(
                id=len(acts) + 1,
                name=name,
                sport_type="Run",
                start_date=when,
                elapsed_time=round(km * pace) + 30,
                moving_time=round(km * pace),
                distance=km * 1000,
                average_speed=1000 / pace,
                average_heartrate=hr,
                max_heartrate=hr + 20,
            )
        )
    return acts


def time_backfill() -> None:
    acts = synthetic_years()
    profile = AthleteProfile()
    runs = sum(1 for a in acts if a.is_run)
    began = time.process_time()
    results = classify_series(acts, profile)
    series_cpu = time.process_time() - began
    protocols = load_protocols(default_protocols_path())
    now = acts[-1].end + timedelta(hours=1)
    began = time.process_time()
    steps = sum(
        len(plan_activity(a, r, profile, protocols, now, "UTC")) for a, r in zip(acts, results, strict=True)
    )
    plan_cpu = time.process_time() - began
    efforts = Counter(r.effort.value for r in results)
    began = time.process_time()
    for i, activity in enumerate(acts):
        classify(activity, acts[:i], profile)  # whole earlier history each time: the naive caller
    naive_cpu = time.process_time() - began
    print(f"\n5-year backfill: {len(acts)} activities ({runs} runs) -> {dict(efforts)}")
    print(f"  classify_series: {series_cpu:.3f} s CPU ({series_cpu / len(acts) * 1e6:.0f} µs per activity)")
    print(f"  plan_activity: {plan_cpu:.3f} s CPU for {steps} steps")
    print(f"  classify + plan: {series_cpu + plan_cpu:.3f} s CPU (target < 1 s)")
    print(f"  classify() with the whole earlier history each time: {naive_cpu:.3f} s CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-errors", action="store_true", help="list every misclassified activity")
    args = parser.parse_args()
    pairs, reads, total = evaluate(args.show_errors)
    print_scores(f"after detail reads ({reads} of {total} activities needed one)", pairs)
    print_confusion(pairs)
    blind, blind_reads, _ = evaluate(show_errors=False, names=False)
    print_scores(f"stress test: every run renamed 'Morning Run' ({blind_reads} detail reads)", blind)
    print_confusion(blind)
    time_backfill()


if __name__ == "__main__":
    main()
