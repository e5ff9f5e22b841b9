"""Issue 10: every evaluation is bounded, and nothing outside the engine changes an answer.

Each formula here passes the load-time whitelist; before the trust redesign
each one either ran for minutes, grew to gigabytes, or let the caller's
Decimal context change the result.  Now each ends with a clean
``invalid_case`` naming the rule, in bounded time.
"""

from __future__ import annotations

import decimal
import resource
import time
from decimal import Decimal
from pathlib import Path

import pytest

from rammeaftale import Engine, InvalidCase, Limits

from .helpers import SOURCE, write_ruleset


def _kapacitet(steps: list[str]) -> str:
    lines = ["spoergsmaal: kapacitet", "titel: Fjendtlige trin", f"kilde: {SOURCE}:1879 Bilag 5", "trin:"]
    for i, formula in enumerate(steps):
        lines += [f"  - id: t{i}", f"    kilde: {SOURCE}:1879 Bilag 5", f"    formel: \"{formula}\""]
    lines += ["  - id: fri", f"    kilde: {SOURCE}:1879 Bilag 5", "    formel: \"True\"",
              "  - id: p", f"    kilde: {SOURCE}:1879 Bilag 5", "    formel: \"['x']\"",
              "resultat:", "  fri_aendring: fri", "  proces: p"]
    return "\n".join(lines) + "\n"


def _engine(tmp_path: Path, steps: list[str], **kwargs) -> Engine:
    write_ruleset(tmp_path, {"kapacitet.yaml": _kapacitet(steps)}, id="t-2021")
    return Engine.from_path(tmp_path, **kwargs)


CASE = {"pladser": 99999, "nye_pladser": 99998}


def _bounded(run, seconds: float = 5.0, megabytes: int = 400):
    """Run ``run()`` and check it finished fast and without growing the process much."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    try:
        return run()
    finally:
        assert time.perf_counter() - start < seconds
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < megabytes * 1024


def test_a_chain_of_whole_number_products_stops_cleanly(tmp_path):
    """100 factors of ``pladser``, four steps deep: minutes of big-int arithmetic before."""
    product = " * ".join(["pladser"] * 100)
    steps = [product] + [" * ".join([f"t{i}"] * 100) for i in range(3)]
    engine = _engine(tmp_path, steps)
    with pytest.raises(InvalidCase, match=r"reglen 't\d'.*(grænse|kunne ikke beregnes)"):
        _bounded(lambda: engine.evaluate("kapacitet", CASE, ruleset="t-2021"))


def test_a_text_doubled_step_after_step_stops_at_the_bound(tmp_path):
    """Chained string ``+`` reached 5 GB and a raw MemoryError before."""
    steps = ["'x' + 'x'"] + [f"t{i} + t{i} + t{i} + t{i}" for i in range(20)]
    engine = _engine(tmp_path, steps)
    with pytest.raises(InvalidCase, match="overskred en grænse.*tekst") as caught:
        _bounded(lambda: engine.evaluate("kapacitet", CASE, ruleset="t-2021"))
    assert caught.value.details["regel"].startswith("t")


def test_a_list_doubled_step_after_step_stops_at_the_bound(tmp_path):
    steps = ["[pladser, pladser]"] + [f"t{i} + t{i} + t{i} + t{i}" for i in range(20)]
    engine = _engine(tmp_path, steps)
    with pytest.raises(InvalidCase, match="overskred en grænse.*samling"):
        _bounded(lambda: engine.evaluate("kapacitet", CASE, ruleset="t-2021"))


def test_nested_collections_count_every_item(tmp_path):
    """400 references to one big list are counted as the items they hold, not as 400."""
    steps = ["[pladser] + [pladser] + [pladser] + [pladser] + [pladser] + [pladser] + [pladser] + [pladser]"]
    steps += [f"[t{i}, t{i}, t{i}, t{i}, t{i}, t{i}, t{i}, t{i}]" for i in range(6)]
    engine = _engine(tmp_path, steps)
    with pytest.raises(InvalidCase, match="overskred en grænse.*samling"):
        _bounded(lambda: engine.evaluate("kapacitet", CASE, ruleset="t-2021"))


def test_the_wall_time_limit_names_the_rule_it_reached(tmp_path):
    engine = _engine(tmp_path, ["pladser + 1", "t0 + 1"], limits=Limits(seconds=1e-9))
    with pytest.raises(InvalidCase, match="tilladte tid") as caught:
        engine.evaluate("kapacitet", CASE, ruleset="t-2021")
    assert caught.value.details["regel"] == "t0"


def test_limits_reject_nonsense():
    for bad in (0, -1, float("nan"), "2"):
        with pytest.raises(ValueError):
            Limits(seconds=bad)


def test_the_callers_decimal_context_does_not_change_an_answer():
    """Precision 5 in the caller's context gave 0.16216 instead of the engine's answer."""
    engine = Engine.default()
    case = {"driftsherre": "Driftskommunen", "driftsherre_type": "kommune", "organisering": "selvstaendigt",
            "beslutningsdato": "2021-06-01", "budget": "20000000", "aarsresultat": "-4000000",
            "overfoert_resultat": "-1000000",
            "omsaetning": {"Driftskommunen": {"2019": "111111", "2020": "111111"},
                           "Andre": {"2019": "222223", "2020": "222222"}}}
    want = engine.evaluate("lukning", case, ruleset="syddanmark-2021").to_dict()
    assert want["output"]["fordeling"]["Driftskommunen"] != "1333333.33"   # a share a low precision would change
    for prec, rounding in ((5, decimal.ROUND_FLOOR), (3, decimal.ROUND_CEILING), (60, decimal.ROUND_DOWN)):
        with decimal.localcontext() as ctx:
            ctx.prec, ctx.rounding = prec, rounding
            ctx.traps[decimal.Inexact] = False
            assert engine.evaluate("lukning", case, ruleset="syddanmark-2021").to_dict() == want
    assert decimal.getcontext().prec == 28          # and the engine did not change the caller's


def test_an_int_product_that_stays_small_stays_an_int():
    from rammeaftale.formula.expr import _multiply
    assert _multiply(3, 4) == 12 and type(_multiply(3, 4)) is int
    with decimal.localcontext(decimal.Context(Emax=999, traps=[decimal.Overflow])):
        with pytest.raises(decimal.Overflow):
            _multiply(10 ** 1200, 10 ** 1200)
    assert isinstance(_multiply(Decimal("0.5"), 2), Decimal)


# --- found by the red team (each failed before the fix) -------------------------------------

def test_the_answer_as_a_whole_is_bounded_not_only_each_value(tmp_path):
    """Values each within bounds, but 30 steps each holding a large list made to_dict() take GBs."""
    steps = ["'SEL-108'"] + [f"t{i} + t{i}" for i in range(10)]
    steps += ["[t10]"] + [f"t{11 + i} + t{11 + i}" for i in range(13)]
    steps += ["t24 + []"] * 30
    engine = _engine(tmp_path, steps)
    with pytest.raises(InvalidCase, match="overskred en grænse"):
        _bounded(lambda: engine.evaluate("kapacitet", CASE, ruleset="t-2021").to_dict())


def test_nesting_built_over_many_steps_stops_at_a_named_depth(tmp_path):
    """55 steps of 150 brackets each gave a raw RecursionError (library) or a crash in the text view."""
    steps = ["pladser"] + ["[" * 20 + f"t{i}" + "]" * 20 for i in range(8)]
    engine = _engine(tmp_path, steps)
    with pytest.raises(InvalidCase, match="indlejret"):
        _bounded(lambda: engine.evaluate("kapacitet", CASE, ruleset="t-2021"))


@pytest.mark.parametrize("budget", ["1e-100000000", "١٢٣", "1_000", " 100", "0x10"])
def test_numbers_a_case_may_not_write(budget):
    case = {"driftsherre": "Drift", "driftsherre_type": "kommune", "organisering": "selvstaendigt",
            "beslutningsdato": "2021-06-01", "budget": budget, "aarsresultat": "-4000000",
            "omsaetning": {"Drift": {"2019": "1", "2020": "1"}}}
    with pytest.raises(InvalidCase) as caught:
        Engine.default().evaluate("lukning", case, ruleset="syddanmark-2021")
    assert caught.value.path == "budget"


@pytest.mark.parametrize("twin", ["Drift\u200b", "Ｄrift", "Drift\u00ad"])
def test_invisible_or_full_width_twins_of_a_kommune_are_the_same_name(twin):
    case = {"driftsherre": "Drift", "driftsherre_type": "kommune", "organisering": "selvstaendigt",
            "beslutningsdato": "2021-06-01", "budget": "100", "aarsresultat": "-40",
            "omsaetning": {"Drift": {"2019": "1", "2020": "1"}, twin: {"2019": "1", "2020": "1"}}}
    with pytest.raises(InvalidCase, match="samme navn"):
        Engine.default().evaluate("lukning", case, ruleset="syddanmark-2021")


def test_a_lone_surrogate_is_refused_where_the_case_is_read():
    from rammeaftale.load.casefile import parse_case_json
    with pytest.raises(InvalidCase, match="surrogat"):
        parse_case_json('{"paragraf": "SEL-108\\ud800", "opsigelsesdato": "2021-01-14"}', "sagen")
    with pytest.raises(InvalidCase, match="surrogat"):
        Engine.default().evaluate("opsigelse", {"paragraf": "SEL-108\ud800", "opsigelsesdato": "2021-01-14"},
                                  ruleset="syddanmark-2021")
    with pytest.raises(InvalidCase) as caught:     # and a message that quotes a bad value can be written
        Engine.default().evaluate("opsigelse", {"paragraf": "SEL-108", "opsigelsesdato": "2021-01-14",
                                                "situation": "ophoer\ud800"}, ruleset="syddanmark-2021")
    caught.value.message.encode("utf-8")


def test_lowering_a_question_on_first_use_is_not_counted_in_the_time_bound():
    """The first answer to a question lowers it (milliseconds, load work); the case's bound starts after."""
    engine = Engine.default(limits=Limits(seconds=0.003))
    rule = engine.ruleset("syddanmark-2021").questions["lukning"]
    assert rule._program is None
    result = engine.evaluate("lukning", {
        "driftsherre": "Vejle", "driftsherre_type": "kommune", "organisering": "selvstaendigt",
        "beslutningsdato": "2021-05-01", "budget": "20000000", "aarsresultat": "-4000000",
        "overfoert_resultat": "-1000000",
        "omsaetning": {"Vejle": {"2019": "330000", "2020": "330000"}, "Odense": {"2019": "670000", "2020": "670000"}},
    }, ruleset="syddanmark-2021", trace=False)
    assert rule._program is not None and result.output
