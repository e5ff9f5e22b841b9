"""The table of catalogue types (``model/types.py``): complete, and what it promises agrees with what it does."""

from __future__ import annotations

import datetime as _dt
import decimal
from decimal import Decimal
from typing import Any, Iterator, Mapping

import jsonschema
import pytest

from rammeaftale.errors import InvalidCase, InvalidRuleset
from rammeaftale.formula.money import CONTEXT
from rammeaftale.model.catalogue import catalogue, typed_output
from rammeaftale.model.types import MAX_ITEMS, MAX_TEXT, TYPES, input_schema_for, item_spec


def _specs(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """A field's spec and those of its items, all the way down."""
    yield spec
    if "af" in spec:
        yield from _specs(item_spec(spec))


def _input_fields() -> list[tuple[str, str, Mapping[str, Any]]]:
    return [(q.name, name, field.spec) for q in catalogue().values() for name, field in q.inputs.items()]


def test_every_type_the_catalogue_uses_has_an_object_and_every_object_is_used():
    used = {spec["type"] for q in catalogue().values() for field in (*q.inputs.values(), *q.outputs.values())
            for spec in _specs(field.spec)}
    assert used == set(TYPES)
    assert all(t.name == name for name, t in TYPES.items())


def _valid(spec: Mapping[str, Any]) -> Any:
    """A value every field of ``spec``'s type accepts (within the bounds of every such field)."""
    kind = spec["type"]
    if kind == "liste":
        return [_valid(item_spec(spec))]
    if kind == "kort":
        return {"2019" if spec.get("noegle") == "aar" else "Vejle": _valid(item_spec(spec))}
    if kind == "valg":
        return spec["vaerdier"][0]
    if kind == "heltal":
        return int(spec.get("min", 1))
    return {"beloeb": "0.5", "decimal": "0.5", "dato": "2021-01-14", "tekst": "x", "paragraf": "SEL-108",
            "frist": "3 måneder", "bool": True}[kind]


def _odd(spec: Mapping[str, Any]) -> list[Any]:
    """Values at the edges of a type, on which the published schema and the reader must agree."""
    kind = spec["type"]
    if kind in ("beloeb", "decimal"):
        return ["0.50", 0.5, 1, "1,5", " 1", "1_0", "abc", "", True, None, [], {}]
    if kind == "heltal":
        return [5.0, 5.5, int(spec.get("min", 1)) - 1, int(spec.get("max", 10)) + 1, True, "x", []]
    if kind == "dato":
        return ["2020-02-29", "2021-02-29", "2021-1-14", "14-01-2021", 20210114, True, None]
    if kind in ("tekst", "paragraf", "frist"):
        return [_valid(spec), "x" * (MAX_TEXT + 1), 108, True, None, []]
    if kind == "bool":
        return [True, False, "true", 1, 0, None]
    if kind == "valg":
        first = spec["vaerdier"][0]
        return [first, first.upper(), first + " ", 1, None, [first]]
    valid = _valid(item_spec(spec))
    if kind == "liste":
        return [[], [valid] * MAX_ITEMS, [valid] * (MAX_ITEMS + 1), "x", {}, None]
    years = spec.get("noegle") == "aar"
    return [{}, {("1999" if years else f"K{i}"): valid for i in range(3)}, {"19x9": valid}, [], "x", None]


@pytest.mark.parametrize("question, name, spec", _input_fields(), ids=[f"{q}.{n}" for q, n, _ in _input_fields()])
def test_the_input_schema_and_the_reader_agree_on_odd_values(question, name, spec):
    """What the published JSON Schema accepts the engine reads, and what it refuses the engine refuses.

    Only where both can decide: a name that is blank after normalising, a paragraph of an unknown
    law and an amount below a ``min`` are the reader's alone (the schema has no words for them).
    """
    schema = jsonschema.Draft202012Validator(input_schema_for(spec), format_checker=jsonschema.FormatChecker())
    read = catalogue()[question].inputs[name].reader
    disagree = []
    with decimal.localcontext(CONTEXT):
        for value in _odd(spec):
            try:
                read(value, name)
                reads = True
            except InvalidCase as exc:
                assert exc.path is not None and exc.path.startswith(name)
                reads = False
            if reads != schema.is_valid(value):
                disagree.append(f"{str(value)[:40]!r}: læses {reads}, skemaet siger {not reads}")
    assert not disagree, "\n".join(disagree)


def test_outputs_that_need_no_conversion_pass_as_they_are_and_amounts_round_to_oere():
    opsigelse, lukning = catalogue()["opsigelse"], catalogue()["lukning"]
    raw = {"sidste_betalingsdag": _dt.date(2021, 2, 28), "frist": "løbende måned + 1 måned", "regel": "r",
           "initiativtager": None}
    assert all(opsigelse.outputs[n].typer is None for n in raw)
    out = typed_output(opsigelse.outputs, raw, "q.yaml")
    assert out == raw and all(out[n] is raw[n] for n in raw)
    with decimal.localcontext(CONTEXT):
        out = typed_output(lukning.outputs, {"selvrisiko": Decimal("1000000.005"), "til_fordeling": 3,
                                             "fordelingsnoegle": {"A": Decimal("0.50"), "B": Decimal("0.000")},
                                             "fordeling": {"A": 1, "B": None}, "frister": {1: "x"}}, "q.yaml")
    assert out == {"selvrisiko": Decimal("1000000.01"), "til_fordeling": Decimal("3.00"),
                   "fordelingsnoegle": {"A": Decimal("0.5"), "B": Decimal(0)},
                   "fordeling": {"A": Decimal("1.00"), "B": None}, "frister": {"1": "x"}}
    assert str(out["til_fordeling"]) == "3.00" and str(out["fordelingsnoegle"]["B"]) == "0"


@pytest.mark.parametrize("name, value", [("selvrisiko", "tusind"), ("fordeling", ["A"]), ("frister", "x")])
def test_an_output_the_rules_gave_the_wrong_type_is_the_rulesets_fault(name, value):
    with pytest.raises(InvalidRuleset) as info, decimal.localcontext(CONTEXT):
        typed_output(catalogue()["lukning"].outputs, {name: value}, "lukning.yaml:3")
    assert info.value.location == "lukning.yaml:3" and info.value.details == {"resultat": name}
    assert f"resultatet '{name}' skal være af typen" in info.value.message
