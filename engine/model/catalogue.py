"""The question catalogue: typed inputs and outputs, the engine's contract.

The catalogue (``catalogue.yaml``) names every question, its inputs and its
outputs, with a small type vocabulary.  From it we derive the two things
callers need: conversion of a case into exact Python values with
``invalid_case`` errors that name the field path, and a JSON Schema per
question for systems that want to validate before they call.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Mapping

from ..formula.money import CONTEXT
from ..errors import InvalidCase, InvalidRuleset
from ..load.yamlload import load_file
from .types import (TYPES, Reader, Typer, input_schema_for, item_spec, output_schema_for, reader_for,
                    typer_for)
# Other modules read a case's values the catalogue's way through these names of the catalogue.
from .types import (normalise_name as normalise_name, normalise_paragraf as normalise_paragraf,
                    parse_date as parse_date, show_value as show_value)

CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")


@dataclass(frozen=True)
class Field:
    """One typed input or output."""

    name: str
    spec: Mapping[str, Any]

    @property
    def type(self) -> str:
        return self.spec["type"]

    @property
    def required(self) -> bool:
        return bool(self.spec.get("paakraevet"))

    @property
    def has_default(self) -> bool:
        return "standard" in self.spec

    @cached_property
    def reader(self) -> Reader:
        """Reads a caller's raw value for this field (built once: the hot path of every evaluation)."""
        return reader_for(self.spec)

    @cached_property
    def typer(self) -> Typer | None:
        """Types a value the rules computed for this output; None where the value needs nothing."""
        return typer_for(self.spec)


@dataclass(frozen=True, eq=False)
class Question:
    name: str
    title: str
    inputs: dict[str, Field]
    outputs: dict[str, Field]

    def coerce_case(self, case: Any) -> dict[str, Any]:
        """Validate and convert a caller's case; raise InvalidCase naming the field.

        Runs in the engine's own decimal context, so the caller's precision,
        rounding and traps never change what a case means.
        """
        with decimal.localcontext(CONTEXT):
            return self.coerce_in_context(case)

    def coerce_in_context(self, case: Any) -> dict[str, Any]:
        """:meth:`coerce_case` for a caller already inside the engine's decimal context (``Engine.evaluate``).

        Why apart: entering a decimal context costs about as much as reading
        a whole notice-period case, so the engine does not enter it twice.
        """
        if type(case) is not dict and not isinstance(case, Mapping):
            raise InvalidCase("sagen skal være et JSON-objekt", path="")
        if not self._names.issuperset(case):
            unknown = sorted(str(k) for k in case if k not in self.inputs)
            raise InvalidCase(
                f"ukendt felt '{unknown[0]}' i sagen; spørgsmålet '{self.name}' kender "
                f"{', '.join(self.inputs)}", path=unknown[0])
        values: dict[str, Any] = {}
        get = case.get
        for name, read, required, default in self._plan:
            raw = get(name)
            if raw is not None:
                values[name] = read(raw, name)
            elif required:
                raise InvalidCase(f"feltet '{name}' mangler", path=name)
            else:
                values[name] = default
        return values

    @cached_property
    def _names(self) -> frozenset[str]:
        return frozenset(self.inputs)

    @cached_property
    def _plan(self) -> tuple[tuple[str, Reader, bool, Any], ...]:
        """Per field in catalogue order: reader, required, converted default — worked out once."""
        return tuple(
            (name, f.reader, f.required, f.reader(f.spec["standard"], name) if f.has_default else None)
            for name, f in self.inputs.items())

    def json_schema(self) -> dict[str, Any]:
        """A JSON Schema (draft 2020-12) of the question's input."""
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"{self.name}: {self.title}",
            "type": "object",
            "additionalProperties": False,
            "required": [n for n, f in self.inputs.items() if f.required],
            "properties": {n: input_schema_for(f.spec) for n, f in self.inputs.items()},
        }

    def output_json_schema(self) -> dict[str, Any]:
        """A JSON Schema of the question's ``output`` as ``Result.to_dict()`` writes it (the JSON form)."""
        return {
            "type": "object",
            "additionalProperties": False,
            "required": [n for n, f in self.outputs.items() if f.required],
            "properties": {n: output_schema_for(f.spec, f.required) for n, f in self.outputs.items()},
        }

    def result_json_schema(self) -> dict[str, Any]:
        """A JSON Schema of the whole answer, ``Result.to_dict()``, for this question."""
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"Svar på {self.name}: {self.title}",
            "type": "object",
            "additionalProperties": False,
            "required": ["question", "ruleset", "status", "output", "trace", "warnings", "ruleset_digest",
                         "engine_version", "catalogue_version"],
            "properties": {
                "question": {"const": self.name},
                "ruleset": {"type": "string"},
                "status": {"enum": ["vedtaget", "udkast", "forslag"]},
                "output": self.output_json_schema(),
                "trace": {"type": "array", "items": {
                    "type": "object", "required": ["rule", "kind", "values", "result"],
                    "properties": {"rule": {"type": "string"}, "kind": {"type": "string"},
                                   "title": {"type": "string"}, "values": {"type": "object"}, "result": {},
                                   "kilde": {"type": "string"}, "notes": {"type": "array",
                                                                          "items": {"type": "string"}}}}},
                "warnings": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False, "required": ["tekst", "kilde", "art"],
                    "properties": {"tekst": {"type": "string"}, "kilde": {"type": ["string", "null"]},
                                   "art": {"type": "string"}}}},
                "ruleset_digest": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
                "engine_version": {"type": "string"},
                "catalogue_version": {"type": "integer"},
                "alternativer": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["punkt", "fortolkning", "fulgt", "tekst", "kilde", "regel"],
                    "properties": {"punkt": {"type": "string"}, "fortolkning": {"type": "string"},
                                   "fulgt": {"type": "boolean"}, "tekst": {"type": "string"},
                                   "kilde": {"type": "string"}, "regel": {"type": "string"},
                                   "titel": {"type": "string"},
                                   "output": {"type": "object", "minProperties": 1,
                                              "properties": self.output_json_schema()["properties"],
                                              "additionalProperties": False},
                                   "fejl": {"type": "object", "required": ["kind", "message"],
                                            "properties": {"kind": {"type": "string"},
                                                           "message": {"type": "string"}}}},
                    "oneOf": [{"required": ["output"]}, {"required": ["fejl"]}]}},
                "fortolkninger": {"type": "object", "minProperties": 1,
                                  "additionalProperties": {"type": "string"}},
            },
        }


#: The keys a field of the catalogue may have; anything else is a mistake in catalogue.yaml
#: (a comma in an unquoted ``beskrivelse`` inside ``{…}`` silently makes a new key).
FIELD_KEYS = frozenset({"type", "beskrivelse", "paakraevet", "standard", "min", "max", "vaerdier", "af",
                        "noegle", "navn"})


@cache
def _catalogue_data() -> dict[str, Any]:
    doc = load_file(CATALOGUE_FILE)
    for question, spec in doc.data["spoergsmaal"].items():
        for side in ("input", "output"):
            for name, field in spec[side].items():
                pending = [(name, field)]
                while pending:
                    where, item = pending.pop()
                    unknown = sorted(set(item) - FIELD_KEYS)
                    if unknown:
                        raise InvalidRuleset(f"feltet '{where}' i '{question}' har ukendte nøgler: "
                                             f"{', '.join(map(repr, unknown))} (sæt en beskrivelse med komma "
                                             "i anførselstegn)", location=doc.where(("spoergsmaal", question,
                                                                                     side, name)))
                    if item.get("type") not in TYPES:
                        raise InvalidRuleset(f"feltet '{where}' i '{question}' har den ukendte type "
                                             f"'{item.get('type')}' (kendte: {', '.join(TYPES)})",
                                             location=doc.where(("spoergsmaal", question, side, name)))
                    if "af" in item:
                        pending.append((f"{where}.af", item_spec(item)))
    return doc.data


def catalogue_version() -> int:
    """The catalogue's version: it changes only when a question's names or types change (the contract)."""
    return int(_catalogue_data()["version"])


@cache
def catalogue() -> dict[str, Question]:
    """All questions, loaded once from ``catalogue.yaml``."""
    data = _catalogue_data()["spoergsmaal"]
    return {
        name: Question(
            name=name,
            title=q["titel"],
            inputs={n: Field(n, s) for n, s in q["input"].items()},
            outputs={n: Field(n, s) for n, s in q["output"].items()},
        )
        for name, q in data.items()
    }


def typed_output(fields: Mapping[str, Field], raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Apply the catalogue's output types: money to øre, shares as Decimal; text, dates and choices
    pass as they are.  Runs inside the engine's decimal context, as ``Engine.evaluate`` does.

    A value that cannot take its output's type (text for an amount, a list
    for a map) is the ruleset's fault, whatever the case: ``invalid_ruleset``
    at ``where``, the question file's ``resultat``.
    """
    out = {}
    for name, value in raw.items():
        field = fields[name]
        typer = field.typer
        if typer is None or value is None:
            out[name] = value
            continue
        try:
            out[name] = typer(value)
        except (ArithmeticError, TypeError, ValueError, AttributeError):
            raise InvalidRuleset(f"resultatet '{name}' skal være af typen '{field.type}' (kataloget), "
                                 f"men reglerne gav {str(value)[:80]!r}", location=where,
                                 details={"resultat": name}) from None
    return out
