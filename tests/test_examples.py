"""Every ruleset's own examples (the agreements' worked examples and
hand-made cases in ``rulesets/*/eksempler``) must reproduce exactly."""

import pytest

from rammeaftale import Engine
from rammeaftale.tools import examples

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


@pytest.mark.parametrize("example", [e for e in ALL if "forventet" in e.data], ids=lambda e: e.id)
def test_fast_path_gives_the_same_output_as_the_traced_path(example):
    """trace=False evaluates compiled formulas; trace=True walks them with simpleeval."""
    traced = ENGINE.evaluate(example.question, example.data["sag"], ruleset=example.ruleset)
    fast = ENGINE.evaluate(example.question, example.data["sag"], ruleset=example.ruleset, trace=False)
    assert fast.output == traced.output and fast.warnings == traced.warnings
