"""The README's first command: real cases from the agreements, explained.

For every embedded agreement and every question it answers, the demo takes
the first example the ruleset itself ships (the agreement's own worked
example where there is one), evaluates it and prints the answer; the first
of those per agreement gets the full step-by-step explanation with its
citations.  It ends with the count of examples that reproduce, so a newcomer
sees both the engine and its proof.
"""

from __future__ import annotations

from . import examples
from ..run.api import Engine
from ..errors import EngineError
from ..run.explain import explain, explain_error, format_value


def run_demo(engine: Engine) -> int:
    found = list(examples.discover(engine))
    agreements = [r for r in engine.registry.agreements()]
    for ruleset in agreements:
        explained = False
        print("=" * 78)
        print(f"{ruleset.name} ({ruleset.id}, {ruleset.valid_from} – {ruleset.valid_to}, status {ruleset.status})")
        print("=" * 78)
        for question in sorted(ruleset.questions):
            example = _pick(found, ruleset.id, question)
            if example is None:
                continue
            print(f"\n--- {question}: {example.name}")
            try:
                result = engine.evaluate(question, example.data["sag"], ruleset=ruleset.id)
            except EngineError as exc:
                print(f"    {explain_error(exc)}")
                continue
            if not explained:
                print(explain(result))
                explained = True
            else:
                for name, value in result.output.items():
                    print(f"    {name}: {format_value(value)}")
        for question, reason in sorted(ruleset.unregulated.items()):
            print(f"\n--- {question}: ikke reguleret – {reason['begrundelse']}")
        print()
    outcomes = [examples.run(engine, ex) for ex in found]
    failed = [o for o in outcomes if not o.passed]
    print(f"Regelsættenes egne eksempler: {len(outcomes) - len(failed)} passed, {len(failed)} failed")
    return 0 if not failed else 1


def _pick(found: list[examples.Example], ruleset: str, question: str) -> examples.Example | None:
    mine = [e for e in found if e.ruleset == ruleset and e.question == question and "forventet" in e.data]
    printed = [e for e in mine if e.data.get("art") == "aftalens_eksempel"]
    return (printed or mine or [None])[0]
