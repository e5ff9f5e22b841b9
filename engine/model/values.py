"""How a value looks: one formatter for every place the engine shows a value.

The engine's values are Python objects (``Decimal`` amounts, ``datetime.date``,
:class:`~rammeaftale.formula.dates.Frist`, ``bool``, maps and lists).  They are
shown in four forms:

* :func:`to_text` — Danish text for people (``explain``, ``compare``, ``report``):
  amounts ``1.320.000,00 kr.`` (for the catalogue type ``beloeb``), shares ``33,00 %``
  (for the view kind ``andel``), other numbers
  with a decimal comma (``0,05``), dates ``14.03.2021``, ``ja``/``nej``, ``–``
  for no value, maps ``{a: 1, b: 2}``, lists ``a; b`` (``(ingen)`` when empty);
* :func:`to_json` — the JSON contract (``Result.to_dict``, ``diff``): amounts as
  exact decimal strings (``"1320000.00"``), dates ISO, periods as their text;
* :func:`to_csv` — one spreadsheet cell: the JSON form as text, ``true``/``false``,
  empty for no value, maps and lists as JSON;
* :func:`to_html` — the text form, HTML-escaped.

``kind`` is the catalogue type of the value (``beloeb``, ``decimal``, ``dato``…;
for a ``kort``/``liste`` the type of its items).  With a kind, :func:`to_text`
also reads a value already in its JSON form (``"1320000.00"`` as ``beloeb``), so
views built on ``Result.to_dict()`` show the same text as those built on results.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Mapping

from ..formula.dates import Frist
from ..formula.money import format_kr

TEXT, JSON, CSV, HTML = "text", "json", "csv", "html"
#: A view-only kind: a share or rate held as a fraction, shown as a percentage (``0.33`` → ``33,00 %``).
ANDEL = "andel"
NONE_TEXT = "–"


def to_text(value: Any, kind: str | None = None) -> str:
    """One value in Danish notation for people."""
    if value is None:
        return NONE_TEXT
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, str):
        return _from_json(value, kind)
    if isinstance(value, Decimal):
        if kind == "beloeb":
            return format_kr(value)
        if kind == ANDEL:
            return format_kr(value * 100).removesuffix(" kr.") + " %"
        return _decimal_comma(value)
    if isinstance(value, _dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, Frist):
        return value.text
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {to_text(v, kind)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "; ".join(to_text(v, kind) for v in value) if value else "(ingen)"
    return str(value)


def to_json(value: Any) -> Any:
    """JSON-ready form of any value the engine produces (the contract of ``--json``)."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, Frist):
        return value.text
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(v) for v in value]
    return str(value)


def to_csv(value: Any) -> str:
    """One CSV cell: the JSON form as text (``true``/``false``; empty for no value)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    plain = to_json(value)
    if isinstance(plain, (dict, list)):
        return json.dumps(plain, ensure_ascii=False)
    return str(plain)


def to_html(value: Any, kind: str | None = None) -> str:
    """The text form, escaped for HTML."""
    return html.escape(to_text(value, kind))


def field_kind(spec: Mapping[str, Any]) -> str | None:
    """The ``kind`` to format a catalogue field with: its type, or its items' type for ``kort``/``liste``."""
    kind = spec.get("type")
    if kind in ("kort", "liste"):
        item = spec.get("af")
        return item.get("type") if isinstance(item, Mapping) else item
    return kind


FORMATTERS: dict[str, Callable[..., Any]] = {TEXT: to_text, JSON: to_json, CSV: to_csv, HTML: to_html}


def format_value(value: Any, mode: str = TEXT, kind: str | None = None) -> Any:
    """``value`` in ``mode`` (``text``, ``json``, ``csv`` or ``html``)."""
    if mode in (TEXT, HTML):
        return FORMATTERS[mode](value, kind)
    return FORMATTERS[mode](value)


def _decimal_text(value: Decimal) -> str:
    if value == value.to_integral_value() and value.as_tuple().exponent >= 0:
        return str(int(value))
    return format(value, "f")


def _decimal_comma(value: Decimal) -> str:
    return f"{value:f}".replace(".", ",")


def _from_json(text: str, kind: str | None) -> str:
    """A string that is the JSON form of a typed value, as text; any other string as it is."""
    try:
        if kind == "beloeb":
            return format_kr(Decimal(text))
        if kind == "decimal":
            return _decimal_comma(Decimal(text))
        if kind == "dato":
            return _dt.date.fromisoformat(text).strftime("%d.%m.%Y")
    except (InvalidOperation, ValueError):
        pass
    return text
