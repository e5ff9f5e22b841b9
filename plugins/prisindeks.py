"""P/L-omregning for regelformler: ``prisindeks_faktor`` og ``til_prisniveau``.

Lofter og beløb i aftalerne står i et bestemt års prisniveau (fx "2024-P/L"),
men sager regnes i andre år.  Omregningen er et forhold mellem to indekstal
fra en tabel, som sekretariatet vedligeholder i ``prisindeks.yaml`` ved siden
af dette modul (eller filen i ``$RAMMEAFTALE_PRISINDEKS``).  Tabellen leveres
tom: et år uden indekstal er en fejl, der nævner året, aldrig et gæt.

Funktioner i regelformler::

    prisindeks_faktor(fra_aar, til_aar)        -> indeks[til_aar] / indeks[fra_aar]
    til_prisniveau(beloeb, fra_aar, til_aar)   -> beloeb * faktoren, afrundet til øre
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from rammeaftale.plugin_api import hookimpl, load_file, round_to, to_decimal

TABLE = Path(__file__).with_name("prisindeks.yaml")
ENV_TABLE = "RAMMEAFTALE_PRISINDEKS"
_CACHE: dict[tuple[str, float], dict[int, Decimal]] = {}


def table_path() -> Path:
    return Path(os.environ.get(ENV_TABLE) or TABLE)


def load_index(path: Path | None = None) -> dict[int, Decimal]:
    """``{år: indekstal}`` from the YAML table, re-read when the file changes."""
    path = path or table_path()
    key = (str(path), path.stat().st_mtime)
    if key not in _CACHE:
        data = load_file(path).data or {}
        raw = data.get("indeks") or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: 'indeks' skal være en tabel år: indekstal")
        index = {}
        for year, value in raw.items():
            number = to_decimal(value)
            if number <= 0:
                raise ValueError(f"{path}: indekstallet for {year} skal være positivt (fik {value})")
            index[int(year)] = number
        _CACHE[key] = index
    return _CACHE[key]


def _value(index: dict[int, Decimal], year: Any) -> Decimal:
    if isinstance(year, bool) or not isinstance(year, (int, Decimal)) or year != int(year):
        raise ValueError(f"året skal være et heltal (fik {year!r})")
    try:
        return index[int(year)]
    except KeyError:
        known = ", ".join(str(y) for y in sorted(index)) or "ingen"
        raise ValueError(f"P/L-indekset ({table_path()}) har intet indekstal for {int(year)} "
                         f"(kendte år: {known}); sekretariatet skal indføre det") from None


def prisindeks_faktor(fra_aar: Any, til_aar: Any) -> Decimal:
    """The factor that brings an amount from ``fra_aar``'s price level to ``til_aar``'s."""
    index = load_index()
    return _value(index, til_aar) / _value(index, fra_aar)


def til_prisniveau(beloeb: Any, fra_aar: Any, til_aar: Any) -> Decimal:
    """``beloeb`` in ``fra_aar``-P/L expressed in ``til_aar``-P/L, rounded to øre."""
    return round_to(to_decimal(beloeb) * prisindeks_faktor(fra_aar, til_aar))


@hookimpl
def rammeaftale_functions() -> dict[str, Any]:
    return {"prisindeks_faktor": prisindeks_faktor, "til_prisniveau": til_prisniveau}
