"""The catalogue's types: one object per type name ``catalogue.yaml`` may use.

A type knows, for one field's spec, how to read a caller's raw value into an
exact Python value (or refuse it with ``invalid_case`` naming the path), the
JSON Schema of that input and of the output's JSON form, how to type a value
a ruleset computed for an output, and which widget the caseworkers' page
draws.  Why one table: that knowledge used to sit in ``if kind == …`` chains
in four modules, and a type changed in one of them and not the others made
the schema promise what coercion refused.

Why readers are built per field (:meth:`CatalogueType.reader` binds bounds,
choices and item readers once): a case is read on every evaluation, and a
notice-period case is a few microseconds in all, so reading it costs one call
per present field and no look-ups in the spec.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from abc import ABC, abstractmethod
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Callable, Mapping

from ..errors import InvalidCase
from ..formula.dates import Frist, PeriodSyntaxError
from ..formula.money import round_to
from ..load.casefile import writable

#: Reads one raw value at a path into its Python value, or raises InvalidCase at that path.
Reader = Callable[[Any, str], Any]
#: Gives an output value its catalogue type (None is never passed: no value stays no value).
Typer = Callable[[Any], Any]

#: Amounts beyond this are typos or hostile input, not social-area budgets.
MAX_AMOUNT = Decimal("1e12")
_MAX_WHOLE = int(MAX_AMOUNT)
#: The smallest magnitude a number of a case may have (1e-20); an øre is 1e-2.
MAX_DECIMALS = 20
MAX_TEXT = 500
MAX_ITEMS = 1000
MAX_KEY = 100
#: Year keys (``noegle: aar``) are whole years written with four digits in this range.
MIN_YEAR, MAX_YEAR = 1900, 2200

LAW_PREFIXES = ("SEL", "BL", "ABL", "FSL", "LSV")
_PARAGRAF_NOISE = re.compile(r"§|\bstk\b\.?|\bnr\b\.?", re.IGNORECASE)
#: A number written as text: ASCII digits, an optional sign, point and exponent; nothing else.
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_DECIMAL_JSON = r"^-?\d+(\.\d+)?$"


# --- readers every door shares ----------------------------------------------------------------

def show_value(raw: Any) -> str:
    """The start of a bad value for a message; never fails (str() of a huge int can), and is always
    writable (a lone surrogate is shown escaped)."""
    try:
        return str(raw)[:40].encode("utf-8", "backslashreplace").decode("utf-8")
    except ValueError:
        return f"{type(raw).__name__} med for mange cifre"


def _out_of_range(path: str) -> InvalidCase:
    return InvalidCase(f"'{path}' er uden for det tilladte område (højst {MAX_AMOUNT:,.0f} i absolut værdi)",
                       path=path)


def read_number(raw: Any, path: str) -> Decimal:
    """A number of a case as an exact Decimal: a JSON number, a Decimal or a number written as text.

    One ``isinstance`` per kind of raw value, a Decimal (nothing to convert)
    and text (how JSON cases write amounts) first: the kinds are disjoint, so
    the order changes no answer, only how many checks the common case pays for.
    """
    if isinstance(raw, Decimal):
        value = raw
    else:
        if isinstance(raw, str):
            # Plain ASCII digits (most amounts) are a number; only other text needs the regex.
            if not (raw.isdigit() and raw.isascii()) and not _NUMBER_TEXT.fullmatch(raw):
                # Decimal() itself also reads ' 100', '1_000' and Arabic-Indic digits; a case may not.
                raise InvalidCase(f"'{path}' skal være et tal skrevet med cifrene 0-9 og punktum som decimaltegn "
                                  f"(fik '{show_value(raw)}')", path=path)
            source: str | int = raw
        elif isinstance(raw, float):
            source = repr(raw)
        elif isinstance(raw, int) and not isinstance(raw, bool):
            if raw.bit_length() > 64:  # str() of a >4300-digit int raises ValueError
                raise _out_of_range(path)
            source = raw
        else:
            raise InvalidCase(f"'{path}' skal være et tal (fik {type(raw).__name__})", path=path)
        try:
            value = Decimal(source)
        except InvalidOperation:
            raise InvalidCase(f"'{path}' skal være et tal (fik '{show_value(raw)}')", path=path) from None
    # copy_abs() is exact; abs() rounds in the thread's context and raises Overflow on '1e999999999'.
    if not value.is_finite() or value.copy_abs() > MAX_AMOUNT:
        raise _out_of_range(path)
    if value and value.adjusted() < -MAX_DECIMALS:
        # '1e-100000000' is a valid Decimal, but written out it is 100 MB of zeros.
        raise InvalidCase(f"'{path}' har for mange decimaler (højst {MAX_DECIMALS})", path=path)
    return value


def parse_date(raw: Any, path: str) -> _dt.date:
    """A date as every door reads one: a ``date`` or ``ÅÅÅÅ-MM-DD``, never a ``datetime``; else invalid_case."""
    if isinstance(raw, str):
        if len(raw) == 10 and raw[4] == raw[7] == "-" and raw[:4].isdigit():
            try:
                return _dt.date.fromisoformat(raw)
            except ValueError:
                pass
    elif isinstance(raw, _dt.datetime):
        raise InvalidCase(f"'{path}' skal være en dato uden klokkeslæt (fik {raw.isoformat()}); "
                          f"brug {raw.date().isoformat()}", path=path)
    elif isinstance(raw, _dt.date):
        return raw
    raise InvalidCase(f"'{path}' skal være en gyldig dato ÅÅÅÅ-MM-DD (fik '{show_value(raw)}')", path=path)


def read_text(raw: Any, path: str) -> str:
    """Text of at most MAX_TEXT characters that every output can write."""
    if not isinstance(raw, str):
        raise InvalidCase(f"'{path}' skal være tekst (fik {type(raw).__name__})", path=path)
    if len(raw) > MAX_TEXT:
        raise InvalidCase(f"'{path}' er for lang (højst {MAX_TEXT} tegn)", path=path)
    if not raw.isascii():       # ASCII is always writable: most texts need no further check
        check_encodable(raw, path)
    return raw


def _read_name(raw: Any, path: str) -> str:
    """A text with ``navn: true``: normalised like a key, so it finds its entry in a map."""
    name = normalise_name(read_text(raw, path))
    if not name:
        raise InvalidCase(f"'{path}' må ikke være tom", path=path)
    return name


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


@lru_cache(maxsize=1024)
def normalise_paragraf(raw: str) -> str:
    """``"SEL § 66 stk. 1 nr. 6"`` → ``"SEL-66-1-6"``; raises ValueError.

    Cached: a case names one of a few hundred paragraphs, and a cache hit
    (a paragraph seen before, in normal form or not) is cheaper than any
    check of the text.
    """
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


def item_spec(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """The spec of a ``liste``'s or ``kort``'s items (``af: tekst`` is short for ``af: {type: tekst}``)."""
    item = spec["af"]
    return {"type": item} if isinstance(item, str) else item


# --- the types ----------------------------------------------------------------------------------

class CatalogueType(ABC):
    """What one catalogue type means for a field; the subclasses below are the whole vocabulary."""

    #: The ``<input>`` the caseworkers' page draws (text, number, date, select, textarea).
    widget = "text"
    #: The keyboard a phone shows for it (``inputmode``), where plain text is not right.
    inputmode: str | None = None

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    def reader(self, spec: Mapping[str, Any]) -> Reader:
        """The reader of raw values for a field with ``spec``."""

    @abstractmethod
    def input_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """The type's own JSON Schema keywords for an input (description and default are added by the caller)."""

    def output_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """The type's own JSON Schema keywords for an output's JSON form (:func:`~rammeaftale.model.values.to_json`)."""
        return {"type": "string"}

    def typer(self, spec: Mapping[str, Any]) -> Typer | None:
        """How a computed output value gets this type; None where the value is used as the rules gave it."""
        return None


class _Number(CatalogueType):
    """``beloeb`` (money) and ``decimal``: exact Decimals within MAX_AMOUNT and the field's bounds."""

    inputmode = "decimal"

    def __init__(self, name: str, output_pattern: str, output_typer: Typer) -> None:
        super().__init__(name)
        self._output_pattern = output_pattern
        self._typer = output_typer

    def reader(self, spec: Mapping[str, Any]) -> Reader:
        return _bounded(read_number, spec)

    def input_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": ["number", "string"], "pattern": _DECIMAL_JSON}

    def output_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "string", "pattern": self._output_pattern}

    def typer(self, spec: Mapping[str, Any]) -> Typer | None:
        return self._typer


def _money(value: Any) -> Decimal:
    return round_to(value if isinstance(value, Decimal) else Decimal(value))


def _plain_decimal(value: Any) -> Decimal:
    """A share or rate without trailing zeros (``0.50`` → ``0.5``); zero is ``0`` whatever its exponent."""
    number = Decimal(value)
    return number.normalize() if number != 0 else Decimal(0)


def _bounded(read: Callable[[Any, str], Decimal], spec: Mapping[str, Any]) -> Reader:
    """``read`` plus the field's ``min``/``max``; ``read`` itself where the field has neither."""
    if "min" not in spec and "max" not in spec:
        return read
    check = _bounds(spec)

    def read_bounded(raw: Any, path: str) -> Decimal:
        value = read(raw, path)
        check(value, path)
        return value
    return read_bounded


def _bounds(spec: Mapping[str, Any]) -> Callable[[Decimal | int, str], None]:
    """The check of a field's ``min``/``max``, with the bounds read once."""
    low_text, high_text = spec.get("min"), spec.get("max")
    low = Decimal(str(low_text)) if "min" in spec else None
    high = Decimal(str(high_text)) if "max" in spec else None

    def check(value: Decimal | int, path: str) -> None:
        if low is not None and value < low:
            raise InvalidCase(f"'{path}' må ikke være under {low_text} (fik {value})", path=path)
        if high is not None and value > high:
            raise InvalidCase(f"'{path}' må ikke være over {high_text} (fik {value})", path=path)
    return check


class _Integer(CatalogueType):
    """``heltal``: a whole number, as a Python int."""

    widget = "number"

    def reader(self, spec: Mapping[str, Any]) -> Reader:
        check = _bounds(spec)

        def read_integer(raw: Any, path: str) -> int:
            if raw.__class__ is int and -_MAX_WHOLE <= raw <= _MAX_WHOLE:
                check(raw, path)                # a plain int in range: what the steps below would conclude
                return raw
            value = read_number(raw, path)
            if value != value.to_integral_value():
                raise InvalidCase(f"'{path}' skal være et heltal (fik {value})", path=path)
            check(value, path)
            return int(value)
        return read_integer

    def input_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "integer"}
        for key, word in (("min", "minimum"), ("max", "maximum")):
            if key in spec:
                out[word] = int(spec[key])
        return out

    def output_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "integer"}

    def typer(self, spec: Mapping[str, Any]) -> Typer | None:
        return int


class _Date(CatalogueType):
    widget = "date"

    def reader(self, spec: Mapping[str, Any]) -> Reader:
        return parse_date

    def input_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}

    def output_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


class _Text(CatalogueType):
    """``tekst``, and the base of the types written as text (``paragraf``, ``frist``)."""

    def reader(self, spec: Mapping[str, Any]) -> Reader:
        return _text_reader(spec)

    def input_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "string", "maxLength": MAX_TEXT}


def _text_reader(spec: Mapping[str, Any]) -> Callable[[Any, str], str]:
    return _read_name if spec.get("navn") else read_text


class _Paragraf(_Text):
    """A paragraph of a law, in normal form (``SEL § 66 stk. 1`` → ``SEL-66-1``)."""

    def reader(self, spec: Mapping[str, Any]) -> Reader:
        text = _text_reader(spec)

        def read_paragraf(raw: Any, path: str) -> str:
            written = text(raw, path)
            try:
                return normalise_paragraf(written)
            except ValueError as exc:
                raise InvalidCase(f"'{path}': {exc}", path=path) from None
        return read_paragraf


class _Period(_Text):
    """A notice period as text (``frist``), checked against the period grammar."""

    def reader(self, spec: Mapping[str, Any]) -> Reader:
        text = _text_reader(spec)

        def read_period(raw: Any, path: str) -> str:
            period = text(raw, path).strip()
            try:
                Frist(period)
            except PeriodSyntaxError as exc:
                raise InvalidCase(f"'{path}': {exc}", path=path) from None
            return period
        return read_period


class _Bool(CatalogueType):
    widget = "select"

    def reader(self, spec: Mapping[str, Any]) -> Reader:
        return _read_bool

    def input_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "boolean"}

    def output_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "boolean"}


def _read_bool(raw: Any, path: str) -> bool:
    if not isinstance(raw, bool):
        raise InvalidCase(f"'{path}' skal være true eller false (fik '{show_value(raw)}')", path=path)
    return raw


class _Choice(CatalogueType):
    """``valg``: one of the field's ``vaerdier``."""

    widget = "select"

    def reader(self, spec: Mapping[str, Any]) -> Reader:
        values = tuple(spec["vaerdier"])
        known = ", ".join(map(str, values))

        def read_choice(raw: Any, path: str) -> Any:
            if raw not in values:
                raise InvalidCase(f"'{path}' skal være en af {known} (fik '{show_value(raw)}')", path=path)
            return raw
        return read_choice

    def input_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {"enum": list(spec["vaerdier"])}

    def output_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return self.input_schema(spec)


class _List(CatalogueType):
    """``liste``: at most MAX_ITEMS values of the type ``af``."""

    widget = "textarea"

    def reader(self, spec: Mapping[str, Any]) -> Reader:
        item = reader_for(item_spec(spec))

        def read_list(raw: Any, path: str) -> list[Any]:
            if not isinstance(raw, list):
                raise InvalidCase(f"'{path}' skal være en liste", path=path)
            if len(raw) > MAX_ITEMS:
                raise InvalidCase(f"'{path}' har for mange elementer (højst {MAX_ITEMS})", path=path)
            return [item(v, f"{path}[{i}]") for i, v in enumerate(raw)]
        return read_list

    def input_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "array", "items": input_schema_for(item_spec(spec)), "maxItems": MAX_ITEMS}

    def output_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "array", "items": output_schema_for(item_spec(spec))}

    def typer(self, spec: Mapping[str, Any]) -> Typer | None:
        item = typer_for(item_spec(spec))
        if item is None:
            return list
        return lambda value: [item(v) if v is not None else None for v in value]


class _Map(CatalogueType):
    """``kort``: names (or with ``noegle: aar`` years) to values of the type ``af``."""

    widget = "textarea"

    def reader(self, spec: Mapping[str, Any]) -> Reader:
        item = reader_for(item_spec(spec))
        key_of = _year_key if spec.get("noegle") == "aar" else _name_key

        def read_map(raw: Any, path: str) -> dict[str, Any]:
            if not isinstance(raw, Mapping):
                raise InvalidCase(f"'{path}' skal være et objekt {{navn: værdi}}", path=path)
            if len(raw) > MAX_ITEMS:
                raise InvalidCase(f"'{path}' har for mange elementer (højst {MAX_ITEMS})", path=path)
            for key in raw:
                if isinstance(key, int) and key.bit_length() > 64:  # str() of a >4300-digit int fails
                    raise InvalidCase(f"'{path}' har en ugyldig nøgle (et alt for stort tal)", path=path)
            out: dict[str, Any] = {}
            folded: dict[str, str] = {}
            for key in raw:
                name = key_of(key, path)
                fold = name.casefold()
                if fold in folded:
                    other, key = sorted((folded[fold], str(key)))  # the message is the same whichever came first
                    raise InvalidCase(
                        f"'{path}' har både '{show_value(other)}' og '{show_value(key)}', som er samme navn, når "
                        "store/små bogstaver, mellemrum og Unicode-form ses bort fra; skriv hver nøgle én gang, "
                        "ellers kan beløbet ikke fordeles entydigt", path=f"{path}.{name}")
                folded[fold] = str(key)
                out[name] = item(raw[key], f"{path}.{name}")
            return out
        return read_map

    def input_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        out = {"type": "object", "additionalProperties": input_schema_for(item_spec(spec)), "maxProperties": MAX_ITEMS}
        if spec.get("noegle") == "aar":
            out["propertyNames"] = {"pattern": "^[0-9]{4}$"}
        return out

    def output_schema(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": output_schema_for(item_spec(spec))}

    def typer(self, spec: Mapping[str, Any]) -> Typer | None:
        item = typer_for(item_spec(spec))
        if item is None:
            return lambda value: {str(k): v for k, v in value.items()}
        return lambda value: {str(k): item(v) if v is not None else None for k, v in value.items()}


def _name_key(key: Any, path: str) -> str:
    """A name key (a kommune, a region): normalised like :func:`normalise_name`."""
    if key.__class__ is str and key.isascii():     # what the calls below come to for ASCII, the common case
        name = key.strip()
    else:
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
        text = key if isinstance(key, str) and len(key) == 4 and key.isascii() and key.isdigit() else ""
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


#: Every type the catalogue may use, by name.
TYPES: dict[str, CatalogueType] = {t.name: t for t in (
    _Number("beloeb", r"^-?\d+\.\d{2}$", _money), _Number("decimal", _DECIMAL_JSON, _plain_decimal),
    _Integer("heltal"), _Date("dato"), _Text("tekst"), _Bool("bool"), _Choice("valg"), _Period("frist"),
    _Paragraf("paragraf"), _List("liste"), _Map("kort"),
)}


# --- one field: its type's knowledge plus what every type shares ---------------------------------

def reader_for(spec: Mapping[str, Any]) -> Reader:
    """The reader of raw values for a field (or the items of one) with ``spec``."""
    return TYPES[spec["type"]].reader(spec)


def typer_for(spec: Mapping[str, Any]) -> Typer | None:
    """How an output value gets the type of ``spec``; None where it needs nothing."""
    return TYPES[spec["type"]].typer(spec)


def input_schema_for(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON Schema of an input field: its type's, with its description and default."""
    out = TYPES[spec["type"]].input_schema(spec)
    if "beskrivelse" in spec:
        out["description"] = spec["beskrivelse"]
    if "standard" in spec:
        out["default"] = spec["standard"] if not isinstance(spec["standard"], Decimal) else str(spec["standard"])
    return out


def output_schema_for(spec: Mapping[str, Any], required: bool = True) -> dict[str, Any]:
    """The JSON Schema of an output's JSON form (see :func:`rammeaftale.model.values.to_json`);
    an output that is not ``paakraevet`` may also be null."""
    out = TYPES[spec["type"]].output_schema(spec)
    if "beskrivelse" in spec:
        out["description"] = spec["beskrivelse"]
    return out if required else {"anyOf": [out, {"type": "null"}], **({"description": out["description"]}
                                                                        if "description" in out else {})}
