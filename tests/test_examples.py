"""Every ruleset's own examples (the agreements' worked examples and
hand-made cases in ``rulesets/*/eksempler``) must reproduce exactly."""

import pytest

from rammeaftale import Engine, EngineError
from rammeaftale.model.lowering import Writer
from rammeaftale.tools import examples

from .helpers import reference_evaluate

ENGINE = Engine.default()
ALL = list(examples.discover(ENGINE))


def test_every_shipped_agreement_has_examples():
    with_examples = {e.ruleset for e in ALL}
    agreements = {r.id for r in ENGINE.registry.agreements()}
    assert agreements <= with_examples, agreements - with_examples


def test_every_answered_question_has_an_example():
    covered = {(e.ruleset, e.question) for e in ALL}
    missing = [(r.id, q) for r in ENGINE.registry.agreements() for q, rule in r.questions.items()
               if rule.owner == r.id and (r.id, q) not in covered]
    assert not missing


@pytest.mark.parametrize("example", ALL, ids=[e.id for e in ALL])
def test_example_reproduces(example):
    outcome = examples.run(ENGINE, example)
    assert outcome.passed, f"{example.where}: " + "; ".join(outcome.problems)


def _answer(example, trace: bool = True, engine: Engine = ENGINE):
    """What the engine says for ``example``: its result as JSON, or its error."""
    try:
        result = engine.evaluate(example.question, example.data["sag"], ruleset=example.ruleset, trace=trace)
    except EngineError as exc:
        return exc.to_dict()
    return result.to_dict()


def test_the_compiled_runtime_agrees_with_simpleeval_on_every_example(monkeypatch):
    """One runtime (each question lowered to one function) serves every call; simpleeval is its oracle.

    Every example is evaluated twice: by the engine as it is, and by a fresh
    engine whose lowering places a call of simpleeval's tree walk where each
    formula's inline code would go (same checked tree, same bounded
    operators, same steps around it).  Outputs, traces, warnings and errors
    must be identical.
    """
    engine_answers = {e.id: _answer(e) for e in ALL}
    seen = []

    def walked(self, expr):
        if expr.direct is not None and expr.direct[0] == "name":
            return f"ns[{expr.direct[1]!r}]"

        def oracle(ns, expr=expr):
            seen.append(expr.source)
            return reference_evaluate(expr.source, ns, expr.library)
        return f"{self.bind(oracle, 'orakel')}(ns)"

    monkeypatch.setattr(Writer, "formula", walked)
    oracle = Engine.default()
    differ = [e.id for e in ALL if _answer(e, engine=oracle) != engine_answers[e.id]]
    assert len(seen) > 1000 and not differ, differ


def test_trace_off_gives_the_same_answer_without_the_trace():
    for example in ALL:
        traced, fast = _answer(example, True), _answer(example, False)
        if "error" in traced or "kind" in traced:
            assert fast == traced, example.id
        else:
            assert fast["output"] == traced["output"] and fast["warnings"] == traced["warnings"], example.id
            assert fast["trace"] == [] and traced["trace"], example.id


def test_eight_threads_on_one_engine_give_the_sequential_answers():
    """Issue 10: a shared Engine, 8 threads, every shipped example, trace on and off, in CI.

    The switch interval is shortened so threads interleave inside evaluations,
    which is where per-call state on a shared object would show.
    """
    import random
    import sys
    import threading

    jobs = [(e, trace) for e in ALL for trace in (True, False)]
    want = {(e.id, trace): _answer(e, trace) for e, trace in jobs}
    wrong: list[str] = []
    crashed: list[str] = []

    def work(seed: int) -> None:
        order = jobs * 2
        random.Random(seed).shuffle(order)
        for example, trace in order:
            try:
                got = _answer(example, trace)
            except Exception as exc:  # noqa: BLE001 - any escape is a failure of the guarantee
                crashed.append(f"{example.id}: {type(exc).__name__}: {exc}")
                continue
            if got != want[(example.id, trace)]:
                wrong.append(f"{example.id} trace={trace}")

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(old)
    assert not crashed, crashed[:5]
    assert not wrong, f"{len(wrong)} af {len(jobs) * 2 * 8} svar afveg: {wrong[:5]}"


def test_every_alternative_of_every_example_is_what_choosing_that_reading_answers():
    """An alternative resumes at the step where the case met the reading (``RuleQuestion.rerun``); it must
    answer exactly what a whole evaluation under that reading answers."""
    checked = 0
    for example in ALL:
        try:
            result = ENGINE.evaluate(example.question, example.data["sag"], ruleset=example.ruleset,
                                     fortolkninger=example.data.get("fortolkninger"))
        except EngineError:
            continue
        for alternative in result.alternatives:
            chosen = {**(example.data.get("fortolkninger") or {}), alternative.point: alternative.reading}
            try:
                whole = ENGINE.evaluate(example.question, example.data["sag"], ruleset=example.ruleset,
                                        fortolkninger=chosen)
            except EngineError as exc:
                assert alternative.error == {"kind": exc.kind, "message": str(exc)}, example.id
                continue
            assert alternative.error is None and alternative.output, example.id
            assert whole.output == {**result.output, **alternative.output}, example.id
            checked += 1
    assert checked > 20
