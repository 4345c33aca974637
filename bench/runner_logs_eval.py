"""Scores effort classification on the simulated runners' logs of bench/make_runner_logs.py.

    .venv/bin/python bench/runner_logs_eval.py [--split dev|test|all] [--set NAME] [--show-errors] [--json]

Each log is classified in order like a backfill (`classify_series`); when the summary leaves the classifier
undecided and the watch recorded laps, the laps are added and the activity classified again (one detail read),
as the Strava sync does. A second figure gives every run its laps up front ("laps given"). The first weeks of
each log are history and not scored. Tune on `dev`; `test` uses other name pools and seeds and is only
reported.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.make_runner_logs import build
from scheduler.domain.activity import Activity, parse_activity
from scheduler.domain.effort import Classification, classify, classify_series
from scheduler.domain.profile import AthleteProfile

SCORED = ("race", "speedwork", "long_run", "easy")
CLASSES = (*SCORED, "other")
OURS = ("label", "intent", "scored", "detail")


def parse(raw: dict[str, Any], laps: bool) -> Activity:
    fields = {k: v for k, v in raw.items() if k not in OURS}
    if laps and raw.get("detail"):
        fields["laps"] = raw["detail"]["laps"]
    return parse_activity(fields, f"activity {raw['id']}")


def run_set(
    raws: list[dict[str, Any]], laps_given: bool, labels: dict[int, str] | None = None
) -> list[tuple[dict[str, Any], Classification]]:
    acts = [parse(raw, laps_given) for raw in raws]
    results = classify_series(acts, AthleteProfile(), labels=labels)
    out = []
    for i, (raw, act, result) in enumerate(zip(raws, acts, results, strict=True)):
        if not raw["scored"]:
            continue
        final = result
        if not laps_given and not result.decided and raw.get("detail"):
            with_laps = replace(act, laps=parse(raw, True).laps)
            final = classify(with_laps, acts[:i], AthleteProfile(), labels)
        out.append((raw, final))
    return out


def macro_f1(pairs: Sequence[tuple[str, str]]) -> tuple[float, dict[str, tuple[float, float, float, int]]]:
    per: dict[str, tuple[float, float, float, int]] = {}
    for cls in CLASSES:
        tp = sum(1 for e, p in pairs if e == cls and p == cls)
        fp = sum(1 for e, p in pairs if e != cls and p == cls)
        fn = sum(1 for e, p in pairs if e == cls and p != cls)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per[cls] = (precision, recall, f1, tp + fn)
    present = [c for c in SCORED if per[c][3]]
    return sum(per[c][2] for c in present) / len(present), per


def confidence(outcomes: Sequence[tuple[dict[str, Any], Classification]]) -> dict[str, float]:
    """How well "unsure" marks the runs worth a look: its share, and the mistakes it holds."""
    runs = [(raw, r) for raw, r in outcomes if raw["label"] != "other"]
    unsure = [(raw, r) for raw, r in runs if r.unsure_of is not None]
    sure = [(raw, r) for raw, r in runs if r.unsure_of is None]
    wrong = [(raw, r) for raw, r in runs if raw["label"] != r.effort.value]

    def accuracy(pairs: Sequence[tuple[dict[str, Any], Classification]]) -> float:
        return sum(1 for raw, r in pairs if raw["label"] == r.effort.value) / len(pairs) if pairs else 0.0

    return {
        "unsure_share": len(unsure) / len(runs) if runs else 0.0,
        "mistakes_flagged": sum(1 for _, r in wrong if r.unsure_of is not None) / len(wrong)
        if wrong
        else 0.0,
        "accuracy_sure": accuracy(sure),
        "accuracy_unsure": accuracy(unsure),
    }


def corrected_run(
    raws: list[dict[str, Any]], outcomes: list[tuple[dict[str, Any], Classification]], every: int
) -> dict[str, float]:
    """The runner corrects one mistake in `every` (the 1st, the (1 + every)th … in time order), as someone
    who fixes what they notice; the corrections calibrate the classifier. Scored on the runs left as the
    classifier said (including the mistakes not corrected): the same runs with and without the calibration.
    """
    mistakes = sorted(
        (raw for raw, r in outcomes if raw["label"] != r.effort.value and raw["label"] != "other"),
        key=lambda raw: raw["start_date"],
    )[::every]
    labels = {int(raw["id"]): str(raw["label"]) for raw in mistakes}
    rest = [(raw, r) for raw, r in outcomes if raw["id"] not in labels]
    calibrated = [(raw, r) for raw, r in run_set(raws, False, labels) if raw["id"] not in labels]
    before, _ = macro_f1([(raw["label"], r.effort.value) for raw, r in rest])
    after, _ = macro_f1([(raw["label"], r.effort.value) for raw, r in calibrated])
    return {"corrected": len(labels), "macro_f1_rest": before, "macro_f1_rest_calibrated": after}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    parser.add_argument("--set", help="only this set, e.g. dev/veteran")
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--correct-every",
        type=int,
        default=0,
        metavar="N",
        help="also score with one mistake in N corrected by the runner, calibrating the classifier",
    )
    args = parser.parse_args()
    sets: dict[str, list[dict[str, Any]]] = build()["sets"]
    chosen = [
        k
        for k in sets
        if (args.split == "all" or k.startswith(args.split + "/")) and (not args.set or k == args.set)
    ]
    figures: dict[str, Any] = {}
    for key in chosen:
        outcomes = run_set(sets[key], laps_given=False)
        given = run_set(sets[key], laps_given=True)
        pairs = [(raw["label"], r.effort.value) for raw, r in outcomes]
        macro, per = macro_f1(pairs)
        macro_laps, _ = macro_f1([(raw["label"], r.effort.value) for raw, r in given])
        runs = sum(1 for raw, _ in outcomes if raw["label"] != "other")
        others = len(outcomes) - runs
        doubt = confidence(outcomes)
        figures[key] = {
            "runs": runs,
            "other": others,
            "macro_f1": macro,
            "macro_f1_laps_given": macro_laps,
            **doubt,
        }
        if args.correct_every:
            figures[key].update(corrected_run(sets[key], outcomes, args.correct_every))
        if args.json:
            continue
        print(
            f"\n{key}: {runs} runs (+{others} non-runs)  macro-F1 {macro:.3f}  (laps given: {macro_laps:.3f})"
        )
        share, flagged = doubt["unsure_share"], doubt["mistakes_flagged"]
        sure, unsure = doubt["accuracy_sure"], doubt["accuracy_unsure"]
        print(
            f"  unsure on {share:.1%} of runs, holding {flagged:.0%} of the mistakes; "
            f"accuracy {sure:.3f} when sure, {unsure:.3f} when unsure"
        )
        if args.correct_every:
            fixed = figures[key]
            print(
                f"  {fixed['corrected']:.0f} mistakes corrected: macro-F1 of the other runs "
                f"{fixed['macro_f1_rest']:.3f} → {fixed['macro_f1_rest_calibrated']:.3f} with calibration"
            )
        print("  " + "  ".join(f"{c} P{per[c][0]:.2f} R{per[c][1]:.2f} F{per[c][2]:.2f}" for c in CLASSES))
        confusion = Counter(pairs)
        print("  confusion (rows expected):   " + "".join(f"{c[:8]:>9}" for c in CLASSES))
        for e in CLASSES:
            print(f"    {e:26}" + "".join(f"{confusion[(e, p)]:9d}" for p in CLASSES))
        if args.show_errors:
            for raw, r in outcomes:
                if raw["label"] != r.effort.value:
                    hr = (
                        f"HR {raw['average_heartrate']:.0f}/{raw['max_heartrate']}"
                        if raw["has_heartrate"]
                        else "no HR"
                    )
                    print(
                        f"    {raw['start_date'][:10]} {raw['name'][:40]!r:42} {raw['intent']:12} "
                        f"{raw['distance'] / 1000:5.1f} km {raw['moving_time'] / 60:4.0f} min {hr:11}"
                        f" expected {raw['label']}, got {r.effort.value}: {'; '.join(r.reasons)}"
                    )
    if args.json:
        print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
