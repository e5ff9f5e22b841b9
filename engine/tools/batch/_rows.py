"""One row of a batch: from a read :data:`~._read.Item` to its output line, which is never an exception.

Here a raw row becomes a record (routing + case): a JSON row is parsed
strictly, a CSV row's cells are typed from the question catalogue (Danish
decimal commas only where unambiguous), and any error becomes that row's
error line with the row's id as written.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ...errors import EngineError, InvalidCase
from ...load.casefile import parse_case_json
from ...model.catalogue import catalogue
from ._read import Item, json_id

if TYPE_CHECKING:  # pragma: no cover
    from ...run.api import Engine

ROUTING = ("id", "ruleset", "region", "dato")
TRUE, FALSE = {"true", "ja", "1"}, {"false", "nej", "0"}
NUMERIC = ("beloeb", "decimal", "heltal")


def evaluate_item(engine: "Engine", question: str, item: Item) -> dict[str, Any]:
    """The output line for one input row; never raises."""
    number, form, raw = item
    row_id = None
    try:
        record = _record(question, form, raw, number)
        row_id = record.get("id")
        result = engine.evaluate(question, record.get("case", {}), ruleset=record.get("ruleset"),
                                 region=record.get("region"), dato=record.get("dato"), trace=False)
        data = result.to_dict()
        return {"id": row_id, "ruleset": data["ruleset"], "status": data["status"], "output": data["output"],
                "warnings": data["warnings"]}
    except EngineError as exc:
        if row_id is None:
            row_id = _raw_id(form, raw)
        return {"id": row_id, "error": exc.to_dict() | {"line": number}}
    except Exception as exc:  # noqa: BLE001 - a bug on one row must not stop the batch
        return error_line(number, f"intern fejl: {type(exc).__name__}: {exc}", row_id)


def error_line(number: int, message: str, row_id: Any = None, kind: str = "engine_error") -> dict[str, Any]:
    """An output line for a row that failed outside the engine's own errors."""
    return {"id": row_id, "error": {"kind": kind, "message": message, "line": number}}


def _raw_id(form: str, raw: Any) -> Any:
    """The row's id exactly as written, read from the raw row even when the rest of it is refused.

    ``None`` when the id cannot be read without guessing: the row is not a
    JSON object, ``id`` is written twice or holds something no output can
    write (``NaN``, a lone surrogate), or a CSV row is broken before its id.
    """
    if form == "error":
        return raw[1]
    if form in ("csv", "csv;"):
        return raw.get("id") or None
    return json_id(raw)


def _record(question: str, form: str, raw: Any, number: int) -> dict[str, Any]:
    if form == "error":
        raise InvalidCase(raw[0], path="")
    if form in ("csv", "csv;"):
        return _csv_record(question, raw, danish=form == "csv;")
    record = parse_case_json(raw, f"linje {number}", path="")
    if not isinstance(record, dict):
        raise InvalidCase(f"linje {number} skal være et JSON-objekt", path="")
    unknown = sorted(set(record) - set(ROUTING) - {"case"})
    if unknown:
        raise InvalidCase(f"ukendt nøgle '{unknown[0]}' (kendte: {', '.join(ROUTING)}, case)", path=unknown[0])
    if not record.get("ruleset") and not record.get("region"):
        raise InvalidCase("rækken skal have 'ruleset' eller 'region' (og 'dato')", path="ruleset")
    return record


def _csv_record(question: str, row: dict[str, str], danish: bool = False) -> dict[str, Any]:
    """A flat CSV row: routing columns plus one column per case field; empty = absent."""
    fields = catalogue()[question].inputs
    record: dict[str, Any] = {k: row[k] for k in ROUTING if row.get(k)}
    case: dict[str, Any] = {}
    for name, text in row.items():
        if name in ROUTING or text in (None, ""):
            continue
        field = fields.get(name)
        kind = field.type if field is not None else None
        if kind == "bool":
            case[name] = _csv_bool(text, name)
        elif kind in NUMERIC and danish:
            case[name] = danish_number(text, name)
        elif kind in NUMERIC and "," in text:
            case[name] = quoted_decimal_comma(text, name)
        else:
            case[name] = text
    record["case"] = case
    return record


_DK_GROUPED = re.compile(r"-?[0-9]{1,3}(\.[0-9]{3})+")
_DK_DECIMAL = re.compile(r"-?([0-9]{1,3}(\.[0-9]{3})+|[0-9]+),[0-9]+")


def danish_number(text: str, name: str) -> str:
    """A number from a Danish (semicolon) CSV cell: ``1.234,50`` → ``1234.50``, ``0,10`` → ``0.10``.

    Only unambiguous forms are converted: a decimal comma, with or without
    dots grouping thousands.  ``1.234`` alone could be 1234 (Danish grouping)
    or 1,234 (a decimal point) and is refused; anything else (``1234``,
    ``12.5``) is passed on unchanged for the engine to judge.
    """
    cell = text.strip()
    if _DK_DECIMAL.fullmatch(cell):
        return cell.replace(".", "").replace(",", ".")
    if _DK_GROUPED.fullmatch(cell):
        raise InvalidCase(f"'{name}': '{cell}' kan både læses som {cell.replace('.', '')} og som "
                          f"{cell.replace('.', ',')}; skriv {cell.replace('.', '')} eller "
                          f"{cell},00", path=name)
    return cell


_EN_GROUPED = re.compile(r"-?[0-9]{1,3}(,[0-9]{3})+")


def quoted_decimal_comma(text: str, name: str) -> str:
    """A number cell with a comma in a comma-separated file (so it was quoted): ``"0,10"`` → ``0.10``.

    ``"1,234"`` could be a decimal comma or an English thousands separator and
    is refused; ``"1.234,50"`` and ``"0,10"`` are unambiguous.
    """
    cell = text.strip()
    if _EN_GROUPED.fullmatch(cell):
        raise InvalidCase(f"'{name}': '{cell}' kan både læses som {cell.replace(',', '.')} og som "
                          f"{cell.replace(',', '')}; skriv tallet med punktum som decimaltegn og uden "
                          "tusindtalsskilletegn", path=name)
    return danish_number(cell, name)


def _csv_bool(text: str, name: str) -> bool:
    low = text.strip().lower()
    if low in TRUE or low in FALSE:
        return low in TRUE
    raise InvalidCase(f"'{name}' skal være true eller false (fik '{text[:40]}')", path=name)
