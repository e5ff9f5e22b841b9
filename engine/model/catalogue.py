"""The question catalogue: typed inputs and outputs, the engine's contract.

The catalogue (``catalogue.yaml``) names every question, its inputs and its
outputs, with a small type vocabulary.  From it we derive the two things
callers need: conversion of a case into exact Python values with
``invalid_case`` errors that name the field path, and a JSON Schema per
question for systems that want to validate before they call.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

from ..formula.dates import Frist, PeriodSyntaxError
from ..formula.money import CONTEXT
from ..errors import InvalidCase, InvalidRuleset
from ..load.casefile import writable
from ..load.yamlload import load_file

CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")

#: Amounts beyond this are typos or hostile input, not social-area budgets.
MAX_AMOUNT = Decimal("1e12")
MAX_TEXT = 500
MAX_ITEMS = 1000
MAX_KEY = 100
#: Year keys (``noegle: aar``) are whole years written with four digits in this range.
MIN_YEAR, MAX_YEAR = 1900, 2200
_YEAR = re.compile(r"[0-9]{4}")

LAW_PREFIXES = ("SEL", "BL", "ABL", "FSL", "LSV")
_PARAGRAF_NOISE = re.compile(r"§|\bstk\b\.?|\bnr\b\.?", re.IGNORECASE)


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
            return self._coerce_case(case)

    def _coerce_case(self, case: Any) -> dict[str, Any]:
        if not isinstance(case, Mapping):
            raise InvalidCase("sagen skal være et JSON-objekt", path="")
        if not self._names.issuperset(case):
            unknown = sorted(str(k) for k in case if k not in self.inputs)
            raise InvalidCase(
                f"ukendt felt '{unknown[0]}' i sagen; spørgsmålet '{self.name}' kender "
                f"{', '.join(self.inputs)}", path=unknown[0])
        values: dict[str, Any] = {}
        for name, convert, spec, required, default in self._plan:
            raw = case.get(name)
            if raw is None:
                if required:
                    raise InvalidCase(f"feltet '{name}' mangler", path=name)
                values[name] = default
            else:
                values[name] = convert(spec, raw, name)
        return values

    @cached_property
    def _names(self) -> frozenset[str]:
        return frozenset(self.inputs)

    @cached_property
    def _plan(self) -> tuple[tuple[str, Callable[..., Any], Mapping[str, Any], bool, Any], ...]:
        """Per field: converter, spec, required, converted default — worked out once."""
        return tuple(
            (name, _CONVERTERS[f.type], f.spec, f.required,
             _coerce(f.spec, f.spec["standard"], name) if f.has_default else None)
            for name, f in self.inputs.items())

    def json_schema(self) -> dict[str, Any]:
        """A JSON Schema (draft 2020-12) of the question's input."""
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"{self.name}: {self.title}",
            "type": "object",
            "additionalProperties": False,
            "required": [n for n, f in self.inputs.items() if f.required],
            "properties": {n: _schema(f.spec) for n, f in self.inputs.items()},
        }

    def output_json_schema(self) -> dict[str, Any]:
        """A JSON Schema of the question's ``output`` as ``Result.to_dict()`` writes it (the JSON form)."""
        return {
            "type": "object",
            "additionalProperties": False,
            "required": [n for n, f in self.outputs.items() if f.required],
            "properties": {n: _output_schema(f.spec, f.required) for n, f in self.outputs.items()},
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
                    if isinstance(item.get("af"), dict):
                        pending.append((f"{where}.af", item["af"]))
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


# --- conversion ---------------------------------------------------------------

def _coerce(spec: Mapping[str, Any], raw: Any, path: str) -> Any:
    converter = _CONVERTERS.get(spec["type"])
    if converter is None:  # pragma: no cover - the catalogue is checked by tests
        raise InvalidCase(f"ukendt type {spec['type']}", path=path)
    return converter(spec, raw, path)


def _number(spec: Mapping[str, Any], raw: Any, path: str, kind: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise InvalidCase(f"'{path}' skal være et tal (fik {type(raw).__name__})", path=path)
    if isinstance(raw, int) and raw.bit_length() > 64:  # str() of a >4300-digit int raises ValueError
        raise InvalidCase(f"'{path}' er uden for det tilladte område (højst {MAX_AMOUNT:,.0f} i absolut værdi)",
                          path=path)
    if isinstance(raw, str) and not _NUMBER_TEXT.fullmatch(raw):
        # Decimal() itself also reads ' 100', '1_000' and Arabic-Indic digits; a case may not.
        raise InvalidCase(f"'{path}' skal være et tal skrevet med cifrene 0-9 og punktum som decimaltegn "
                          f"(fik '{show_value(raw)}')", path=path)
    try:
        value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw) if isinstance(raw, (str, int)) else raw
    except InvalidOperation:
        raise InvalidCase(f"'{path}' skal være et tal (fik '{show_value(raw)}')", path=path) from None
    # copy_abs() is exact; abs() rounds in the thread's context and raises Overflow on '1e999999999'.
    if not value.is_finite() or value.copy_abs() > MAX_AMOUNT:
        raise InvalidCase(f"'{path}' er uden for det tilladte område (højst {MAX_AMOUNT:,.0f} i absolut værdi)",
                          path=path)
    if value and value.adjusted() < -MAX_DECIMALS:
        # '1e-100000000' is a valid Decimal, but written out it is 100 MB of zeros.
        raise InvalidCase(f"'{path}' har for mange decimaler (højst {MAX_DECIMALS})", path=path)
    _check_bounds(spec, value, path)
    return value


#: A number written as text: ASCII digits, an optional sign, point and exponent; nothing else.
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
#: The smallest magnitude a number of a case may have (1e-20); an øre is 1e-2.
MAX_DECIMALS = 20


def show_value(raw: Any) -> str:
    """The start of a bad value for a message; never fails (str() of a huge int can), and is always
    writable (a lone surrogate is shown escaped)."""
    try:
        return str(raw)[:40].encode("utf-8", "backslashreplace").decode("utf-8")
    except ValueError:
        return f"{type(raw).__name__} med for mange cifre"


def _check_bounds(spec: Mapping[str, Any], value: Decimal | int, path: str) -> None:
    if "min" in spec and value < Decimal(str(spec["min"])):
        raise InvalidCase(f"'{path}' må ikke være under {spec['min']} (fik {value})", path=path)
    if "max" in spec and value > Decimal(str(spec["max"])):
        raise InvalidCase(f"'{path}' må ikke være over {spec['max']} (fik {value})", path=path)


def _money(spec: Mapping[str, Any], raw: Any, path: str) -> Decimal:
    return _number(spec, raw, path, "beløb")


def _decimal(spec: Mapping[str, Any], raw: Any, path: str) -> Decimal:
    return _number(spec, raw, path, "tal")


def _integer(spec: Mapping[str, Any], raw: Any, path: str) -> int:
    value = _number({}, raw, path, "heltal")
    if value != value.to_integral_value():
        raise InvalidCase(f"'{path}' skal være et heltal (fik {value})", path=path)
    _check_bounds(spec, value, path)
    return int(value)


def _date(spec: Mapping[str, Any], raw: Any, path: str) -> _dt.date:
    return parse_date(raw, path)


def parse_date(raw: Any, path: str) -> _dt.date:
    """A date as every door reads one: a ``date`` or ``ÅÅÅÅ-MM-DD``, never a ``datetime``; else invalid_case."""
    if isinstance(raw, _dt.datetime):
        raise InvalidCase(f"'{path}' skal være en dato uden klokkeslæt (fik {raw.isoformat()}); "
                          f"brug {raw.date().isoformat()}", path=path)
    if isinstance(raw, _dt.date):
        return raw
    if isinstance(raw, str) and len(raw) == 10 and raw[4] == raw[7] == "-" and raw[:4].isdigit():
        try:
            return _dt.date.fromisoformat(raw)
        except ValueError:
            pass
    raise InvalidCase(f"'{path}' skal være en gyldig dato ÅÅÅÅ-MM-DD (fik '{show_value(raw)}')", path=path)


def _text(spec: Mapping[str, Any], raw: Any, path: str) -> str:
    if not isinstance(raw, str):
        raise InvalidCase(f"'{path}' skal være tekst (fik {type(raw).__name__})", path=path)
    if len(raw) > MAX_TEXT:
        raise InvalidCase(f"'{path}' er for lang (højst {MAX_TEXT} tegn)", path=path)
    check_encodable(raw, path)
    if spec.get("navn"):
        name = normalise_name(raw)
        if not name:
            raise InvalidCase(f"'{path}' må ikke være tom", path=path)
        return name
    return raw


def check_encodable(text: str, path: str) -> None:
    """A text every output can write (:func:`rammeaftale.load.casefile.writable`), else invalid_case at ``path``."""
    if not writable(text):
        raise InvalidCase(f"'{path}' indeholder et ugyldigt tegn (et enligt surrogat-tegn)", path=path)


def normalise_name(raw: str) -> str:
    """A name as an allocation key: compatibility form (NFKC), invisible format characters and
    surrounding whitespace removed.

    ``"Vejle "`` and ``"Vejle"`` are the same kommune, and so are an "ø" typed
    as one character and as "o" + combining stroke, a full-width "Ｖejle" and a
    name with a zero-width space inside: each would otherwise be a kommune of
    its own and split an allocation.
    """
    if raw.isascii():
        return raw.strip()
    text = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()


def _bool(spec: Mapping[str, Any], raw: Any, path: str) -> bool:
    if not isinstance(raw, bool):
        raise InvalidCase(f"'{path}' skal være true eller false (fik '{show_value(raw)}')", path=path)
    return raw


def _choice(spec: Mapping[str, Any], raw: Any, path: str) -> str:
    if raw not in spec["vaerdier"]:
        raise InvalidCase(f"'{path}' skal være en af {', '.join(map(str, spec['vaerdier']))} "
                          f"(fik '{show_value(raw)}')", path=path)
    return raw


def _period(spec: Mapping[str, Any], raw: Any, path: str) -> str:
    """A notice period as text, checked against the period grammar."""
    text = _text(spec, raw, path).strip()
    try:
        Frist(text)
    except PeriodSyntaxError as exc:
        raise InvalidCase(f"'{path}': {exc}", path=path) from None
    return text


@lru_cache(maxsize=1024)
def normalise_paragraf(raw: str) -> str:
    """``"SEL § 66 stk. 1 nr. 6"`` → ``"SEL-66-1-6"``; raises ValueError."""
    tokens = re.split(r"[\s\-_.,/]+", _PARAGRAF_NOISE.sub(" ", raw).strip())
    tokens = [t for t in tokens if t]
    if not tokens:
        raise ValueError("tom paragraf")
    prefix = tokens[0].upper()
    if prefix not in LAW_PREFIXES:
        match = re.fullmatch(r"([A-Za-z]+)(\d.*)", tokens[0])
        if not match or match.group(1).upper() not in LAW_PREFIXES:
            raise ValueError(f"ukendt lov '{tokens[0]}' (kendte: {', '.join(LAW_PREFIXES)})")
        prefix, tokens = match.group(1).upper(), [prefix, match.group(2)] + tokens[1:]
    rest = [t.lower() for t in tokens[1:]]
    if not rest or not all(re.fullmatch(r"\d+[a-z]?", t) for t in rest):
        raise ValueError(f"kan ikke læse paragraffen '{raw}'")
    return "-".join([prefix] + rest)


def _paragraf(spec: Mapping[str, Any], raw: Any, path: str) -> str:
    text = _text(spec, raw, path)
    try:
        return normalise_paragraf(text)
    except ValueError as exc:
        raise InvalidCase(f"'{path}': {exc}", path=path) from None


def _list(spec: Mapping[str, Any], raw: Any, path: str) -> list[Any]:
    if not isinstance(raw, list):
        raise InvalidCase(f"'{path}' skal være en liste", path=path)
    if len(raw) > MAX_ITEMS:
        raise InvalidCase(f"'{path}' har for mange elementer (højst {MAX_ITEMS})", path=path)
    item = _item_spec(spec)
    return [_coerce(item, v, f"{path}[{i}]") for i, v in enumerate(raw)]


def _map(spec: Mapping[str, Any], raw: Any, path: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise InvalidCase(f"'{path}' skal være et objekt {{navn: værdi}}", path=path)
    if len(raw) > MAX_ITEMS:
        raise InvalidCase(f"'{path}' har for mange elementer (højst {MAX_ITEMS})", path=path)
    if any(isinstance(k, int) and k.bit_length() > 64 for k in raw):  # str() of a >4300-digit int fails
        raise InvalidCase(f"'{path}' har en ugyldig nøgle (et alt for stort tal)", path=path)
    item = _item_spec(spec)
    years = spec.get("noegle") == "aar"
    out: dict[str, Any] = {}
    folded: dict[str, str] = {}
    for key in raw:
        name = _year_key(key, path) if years else _name_key(key, path)
        fold = name.casefold()
        if fold in folded:
            other, key = sorted((folded[fold], str(key)))     # the message is the same whichever came first
            raise InvalidCase(
                f"'{path}' har både '{show_value(other)}' og '{show_value(key)}', som er samme navn, når store/små "
                "bogstaver, mellemrum og Unicode-form ses bort fra; skriv hver nøgle én gang, ellers kan "
                "beløbet ikke fordeles entydigt", path=f"{path}.{name}")
        folded[fold] = str(key)
        out[name] = _coerce(item, raw[key], f"{path}.{name}")
    return out


def _name_key(key: Any, path: str) -> str:
    """A name key (a kommune, a region): normalised like :func:`normalise_name`."""
    if isinstance(key, str):
        check_encodable(key, path)
    name = normalise_name(str(key))
    if not name or len(name) > MAX_KEY:
        raise InvalidCase(f"'{path}' har en ugyldig nøgle '{show_value(key)}'", path=path)
    return name


def _year_key(key: Any, path: str) -> str:
    """A year key: a whole year, ``2019`` or ``"2019"``; never rounded, stripped or guessed."""
    if isinstance(key, int) and not isinstance(key, bool):
        text = str(key) if MIN_YEAR <= key <= MAX_YEAR else ""
    else:
        text = key if isinstance(key, str) and _YEAR.fullmatch(key) else ""
    if not text:
        name = str(key)
        if not name or len(name) > MAX_KEY:
            raise InvalidCase(f"'{path}' har en ugyldig nøgle '{show_value(key)}'", path=path)
        raise InvalidCase(f"'{path}.{name}': nøglen skal være et helt årstal med fire cifre, fx \"2019\" "
                          f"(fik '{show_value(key)}')", path=f"{path}.{name}")
    if not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise InvalidCase(f"'{path}.{text}': årstallet skal ligge mellem {MIN_YEAR} og {MAX_YEAR}",
                          path=f"{path}.{text}")
    return text


def _item_spec(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    item = spec["af"]
    return {"type": item} if isinstance(item, str) else item


_CONVERTERS: dict[str, Callable[[Mapping[str, Any], Any, str], Any]] = {
    "beloeb": _money, "decimal": _decimal, "heltal": _integer, "dato": _date, "tekst": _text,
    "bool": _bool, "valg": _choice, "frist": _period, "paragraf": _paragraf,
    "liste": _list, "kort": _map,
}


# --- JSON Schema ----------------------------------------------------------------

def _output_schema(spec: Mapping[str, Any], required: bool = True) -> dict[str, Any]:
    """The JSON form of an output value (see :func:`rammeaftale.model.values.to_json`)."""
    kind = spec["type"]
    if kind == "beloeb":
        out: dict[str, Any] = {"type": "string", "pattern": r"^-?\d+\.\d{2}$"}
    elif kind == "decimal":
        out = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
    elif kind == "heltal":
        out = {"type": "integer"}
    elif kind == "dato":
        out = {"type": "string", "format": "date"}
    elif kind in ("tekst", "paragraf", "frist"):
        out = {"type": "string"}
    elif kind == "bool":
        out = {"type": "boolean"}
    elif kind == "valg":
        out = {"enum": list(spec["vaerdier"])}
    elif kind == "liste":
        out = {"type": "array", "items": _output_schema(_item_spec(spec))}
    else:  # kort
        out = {"type": "object", "additionalProperties": _output_schema(_item_spec(spec))}
    if "beskrivelse" in spec:
        out["description"] = spec["beskrivelse"]
    return out if required else {"anyOf": [out, {"type": "null"}], **({"description": out["description"]}
                                                                        if "description" in out else {})}


def _schema(spec: Mapping[str, Any]) -> dict[str, Any]:
    kind = spec["type"]
    out: dict[str, Any] = {}
    if kind in ("beloeb", "decimal"):
        out = {"type": ["number", "string"], "pattern": r"^-?\d+(\.\d+)?$"}
    elif kind == "heltal":
        out = {"type": "integer"}
    elif kind == "dato":
        out = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
    elif kind in ("tekst", "paragraf", "frist"):
        out = {"type": "string", "maxLength": MAX_TEXT}
    elif kind == "bool":
        out = {"type": "boolean"}
    elif kind == "valg":
        out = {"enum": list(spec["vaerdier"])}
    elif kind == "liste":
        out = {"type": "array", "items": _schema(_item_spec(spec)), "maxItems": MAX_ITEMS}
    elif kind == "kort":
        out = {"type": "object", "additionalProperties": _schema(_item_spec(spec)), "maxProperties": MAX_ITEMS}
        if spec.get("noegle") == "aar":
            out["propertyNames"] = {"pattern": "^[0-9]{4}$"}
    if kind in ("heltal",):
        for key, word in (("min", "minimum"), ("max", "maximum")):
            if key in spec:
                out[word] = int(spec[key])
    if "beskrivelse" in spec:
        out["description"] = spec["beskrivelse"]
    if "standard" in spec:
        out["default"] = spec["standard"] if not isinstance(spec["standard"], Decimal) else str(spec["standard"])
    return out
