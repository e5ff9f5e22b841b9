#!/usr/bin/env python3
"""Timing of the catalogue's two per-call costs: input coercion and output typing.

A measurement, not a test: run with the engine's interpreter from the repository root,

    .venv/bin/python bench/coerce_timing.py

Why apart from ``bench/run.py``: that bench times whole evaluations against
other engines; this one isolates ``Question.coerce_case`` and ``typed_output``
(the catalogue's share of every evaluation) so a change to either can be
judged before and after on the same machine.  Each figure is the best of
many short ``time.perf_counter`` loops over the sample cases of ``cases.py``, in
µs per case; the best, not the mean, because a shared machine only ever adds.
"""

from __future__ import annotations

import decimal
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cases  # noqa: E402  (bench-local module, found via the path set above)
from rammeaftale import Engine  # noqa: E402
from rammeaftale.formula.money import CONTEXT  # noqa: E402
from rammeaftale.model.catalogue import catalogue  # noqa: E402
from rammeaftale.run.result import typed_output  # noqa: E402

ROUNDS = 25
LOOPS = 400


def per_case_us(work: Callable[[Any], object], items: Sequence[Any]) -> float:
    """Best of ROUNDS loops of ``work`` over ``items``, in µs per item."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(LOOPS):
            for item in items:
                work(item)
        best = min(best, time.perf_counter() - start)
    return best / (LOOPS * len(items)) * 1e6


def main() -> None:
    engine = Engine.from_path(Path(__file__).resolve().parents[1] / "rulesets", only=[cases.RULESET])
    ruleset = engine.ruleset(cases.RULESET)
    rows: list[tuple[str, float]] = []
    for name, sample in (("opsigelse", cases.OPSIGELSE_CASES), ("lukning", cases.LUKNING_CASES)):
        question = catalogue()[name]
        rule = ruleset.questions[name]
        raws = [rule.run(question.coerce_case(case), False, readings={}, deadline=time.monotonic() + 60)[0]
                for case in sample]
        where = rule.meta.where
        rows.append((f"{name}: coerce_case", per_case_us(question.coerce_case, sample)))
        with decimal.localcontext(CONTEXT):     # where Engine.evaluate reads a case and types its output
            rows.append((f"{name}: coerce_in_context", per_case_us(question.coerce_in_context, sample)))
            rows.append((f"{name}: typed_output",
                         per_case_us(lambda raw: typed_output(question.outputs, raw, where), raws)))
        for trace in (False, True):
            rows.append((f"{name}: evaluate(trace={trace})",
                         per_case_us(lambda case: engine.evaluate(name, case, ruleset=cases.RULESET, trace=trace),
                                     sample)))
    first = cases.OPSIGELSE_CASES[0]
    rows.append(("opsigelse, first case only: coerce_case", per_case_us(catalogue()["opsigelse"].coerce_case,
                                                                         [first])))
    for label, us in rows:
        print(f"{label:<45} {us:8.2f} µs")


if __name__ == "__main__":
    main()
