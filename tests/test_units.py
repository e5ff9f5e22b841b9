"""Building blocks: dates, periods, money, tables, paragraphs, YAML loading."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from rammeaftale.model.catalogue import catalogue, normalise_paragraf
from rammeaftale.formula.dates import Frist, PeriodSyntaxError, add_months, days_in_month
from rammeaftale.errors import InvalidRuleset
from rammeaftale.formula.money import allocate, format_kr
from rammeaftale.model.tables import Conditions, Row, parse_cell
from rammeaftale.load.yamlload import load_text


@pytest.mark.parametrize("rule, expected", [("afkort", dt.date(2021, 2, 28)), ("overloeb", dt.date(2021, 3, 3))])
def test_month_end_rule_is_explicit(rule, expected):
    assert add_months(dt.date(2021, 1, 31), 1, rule) == expected


def test_days_in_month_agrees_with_the_calendar_module_for_every_month_of_every_year():
    import calendar
    wrong = [(y, m) for y in range(1, 10000) for m in range(1, 13)
             if days_in_month(y, m) != calendar.monthrange(y, m)[1]]
    assert not wrong


def test_unknown_month_rule_is_refused():
    with pytest.raises(ValueError):
        add_months(dt.date(2021, 1, 31), 1, "gaet")


@pytest.mark.parametrize("text, notice, last", [
    ("løbende måned", "2021-01-14", "2021-01-31"),
    ("Løbende måned + 1 måned", "2021-01-14", "2021-02-28"),
    ("løbende måned + 1 måned", "2021-04-30", "2021-05-31"),
    ("løbende måned plus to måneder", "2021-11-05", "2022-01-31"),
    ("2 måneder", "2021-01-14", "2021-03-14"),
    ("løbende måned plus 30 dage", "2021-01-14", "2021-03-02"),
    ("30 dage", "2021-01-31", "2021-03-02"),
])
def test_notice_periods_as_the_agreements_write_them(text, notice, last):
    assert Frist(text).last_day(dt.date.fromisoformat(notice), "afkort") == dt.date.fromisoformat(last)


@pytest.mark.parametrize("text", ["", "tre uger", "løbende måned 2", "2", "9999 dage"])
def test_unreadable_periods_are_refused(text):
    with pytest.raises(PeriodSyntaxError):
        Frist(text)


def test_allocation_uses_largest_remainder_and_sums_exactly():
    parts = allocate(Decimal("100"), {"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)})
    assert parts == {"a": Decimal("33.34"), "b": Decimal("33.33"), "c": Decimal("33.33")}


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2),
       st.dictionaries(st.text(min_size=1, max_size=5), st.integers(0, 10**6), min_size=1, max_size=8))
def test_allocation_always_sums_to_the_amount(amount, weights):
    if sum(weights.values()) == 0:
        return
    parts = allocate(amount, {k: Decimal(v) for k, v in weights.items()})
    assert sum(parts.values()) == amount


def test_danish_money_format():
    assert format_kr(Decimal("1320000")) == "1.320.000,00 kr."
    assert format_kr(Decimal("-0.5")) == "-0,50 kr."


@pytest.mark.parametrize("raw, canonical", [
    ("SEL § 108", "SEL-108"), ("sel 108", "SEL-108"), ("SEL-108", "SEL-108"),
    ("SEL § 66 stk. 1 nr. 6", "SEL-66-1-6"), ("barnets lov", None), ("BL § 43 nr. 7", "BL-43-7"),
])
def test_paragraph_normalisation(raw, canonical):
    if canonical is None:
        with pytest.raises(ValueError):
            normalise_paragraf(raw)
    else:
        assert normalise_paragraf(raw) == canonical


def test_interval_cells_and_overlap():
    low, high = parse_cell({"til": 50}), parse_cell({"over": 50})
    assert low.matches(50) and not high.matches(50) and high.matches(51)
    assert not low.overlaps(high)
    assert parse_cell({"fra": 50}).overlaps(low)
    table = Conditions(["x"], [Row("a", (low,)), Row("b", (parse_cell({"fra": 40, "under": 60}),))], "unik")
    assert [(a.id, b.id) for a, b in table.overlapping_pairs()] == [("a", "b")]


def test_yaml_refuses_duplicates_aliases_and_python_tags():
    for text, message in [("a: 1\na: 2\n", "to gange"), ("a: &x [1]\nb: *x\n", "aliaser"),
                          ("a: !!python/object:os.system {}\n", "ikke tilladt")]:
        with pytest.raises(InvalidRuleset) as info:
            load_text(text, "f.yaml")
        assert message in info.value.message and info.value.location.startswith("f.yaml:")


def test_yaml_numbers_are_decimal_and_only_true_false_are_booleans():
    doc = load_text("a: 0.05\nb: no\nc: true\n")
    assert doc.data == {"a": Decimal("0.05"), "b": "no", "c": True}


def test_catalogue_json_schemas_are_valid_json_schema():
    import jsonschema
    for question in catalogue().values():
        jsonschema.Draft202012Validator.check_schema(question.json_schema())


@pytest.mark.parametrize("field, message", [
    # An unquoted comma in a flow mapping's description makes a stray key.
    ("{type: tekst, beskrivelse: En tekst, med komma}", "feltet 'x' i 'q' har ukendte nøgler: 'med komma'"),
    # A misspelt type, here of a list's items: no reader, no schema.
    ("{type: liste, af: beløb}", "feltet 'x.af' i 'q' har den ukendte type 'beløb'"),
])
def test_the_catalogue_refuses_a_field_it_cannot_read(tmp_path, monkeypatch, field, message):
    from rammeaftale import InvalidRuleset
    from rammeaftale.model import catalogue as module
    bad = tmp_path / "catalogue.yaml"
    bad.write_text("version: 1\nspoergsmaal:\n  q:\n    titel: T\n    input:\n"
                   f"      x: {field}\n    output: {{}}\n", "utf-8")
    monkeypatch.setattr(module, "CATALOGUE_FILE", bad)
    module._catalogue_data.cache_clear()
    try:
        with pytest.raises(InvalidRuleset, match=message) as info:
            module._catalogue_data()
        assert info.value.location.startswith(str(bad))
    finally:
        module._catalogue_data.cache_clear()
