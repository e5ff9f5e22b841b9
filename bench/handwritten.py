"""syddanmark-2021 opsigelse (Bilag 6) and lukning (Bilag 5) hand-written in plain Python.

Why this exists: it is the speed floor the engine is compared against — the
fastest a careful programmer would write the same two decisions without a
rules engine.  It is *not* a second source of truth: the engine and its
ruleset are authoritative, and ``run.py`` checks that both give the same
outputs on the sample cases before it times anything, so that the ratio it
prints compares equal work.

It does the work a real caller needs and the engine also does (parse ISO
dates and decimal strings, normalise the paragraph, return JSON-ready
strings) but nothing more: no schema validation, no trace, no ruleset
selection.  Only the paths the bench exercises are implemented
(``situation = "ophoer"``; lukning for a kommune that runs the offer
``selvstaendigt``); anything else raises ``NotImplementedError`` rather than
guess.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping

# --- opsigelse (Bilag 6, tabel 6.1) ------------------------------------------

#: Paragraph -> group.  Only the paragraphs the bench uses for botilbud; the
#: ruleset may know more (e.g. SEL § 66), which does not change the timing.
_GROUP: dict[str, str] = {
    **dict.fromkeys(("SEL-107", "SEL-108", "ABL-105"), "botilbud"),
    **dict.fromkeys(("SEL-32", "SEL-36", "SEL-103", "SEL-104",
                     "FSL-20-2", "FSL-20-3", "LSV-1-2", "LSV-1-3"), "dagtilbud"),
    **dict.fromkeys(("SEL-109", "SEL-110"), "krisecenter"),
    "SEL-101": "misbrug",
}

_INITIATIVTAGER = {
    "botilbud": "Handlekommunen",
    "dagtilbud": "Handlekommunen",
    "krisecenter": "Tilbuddet udskriver",
    "misbrug": "Tilbuddet/kommune udskriver",
}

_PARAGRAF_RE = re.compile(r"^\s*([A-Za-z]+)\s*(?:§+\s*)?[-\s]*(\d+(?:[-\s.]+\d+)*)\s*$")


def normalise_paragraf(text: str) -> str:
    """``"SEL § 108"``, ``"sel 108"`` and ``"SEL-108"`` all become ``"SEL-108"``.

    The already-normal form (what callers usually send) is a dict hit and
    skips the regex, as a hand-tuned implementation would.
    """
    if text in _GROUP:
        return text
    match = _PARAGRAF_RE.match(text)
    if match is None:
        raise ValueError(f"ukendt paragraf {text!r}")
    law, numbers = match.groups()
    return law.upper() + "-" + "-".join(re.split(r"[-\s.]+", numbers))


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _add_months_clipped(day: dt.date, months: int) -> dt.date:
    """Calendar months, clipping to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def opsigelse(case: Mapping[str, Any]) -> dict[str, str]:
    """Last day paid when a placement ends (situation ``ophoer``)."""
    paragraf = normalise_paragraf(case["paragraf"])
    group = _GROUP.get(paragraf)
    if group is None:
        raise ValueError(f"ukendt paragraf {paragraf!r}")
    if case.get("situation", "ophoer") != "ophoer":
        raise NotImplementedError("kun situation 'ophoer' er skrevet i hånden")
    notice = dt.date.fromisoformat(case["opsigelsesdato"])
    end_text = case.get("ophoersdato")
    end = dt.date.fromisoformat(end_text) if end_text else None

    if group == "botilbud":
        if end is not None and end != _month_end(end):
            frist, regel = "2 måneder", "bilag6.botilbud.vilkaarlig_dag"
            basis = _add_months_clipped(notice, 2)
        else:
            frist, regel = "løbende måned + 1 måned", "bilag6.botilbud"
            basis = _month_end(_add_months_clipped(notice.replace(day=1), 1))
    elif group == "dagtilbud":
        frist, regel = "løbende måned", "bilag6.dagtilbud"
        basis = _month_end(notice)
    else:  # krisecenter, misbrug: "afregnes til og med udskrivningsdagen"
        if not case.get("udskrivningsdato"):
            raise ValueError("udskrivningsdato mangler")
        frist, regel = "til og med udskrivningsdagen", f"bilag6.{group}"
        basis = dt.date.fromisoformat(case["udskrivningsdato"])

    last = basis if end is None or end <= basis else end
    return {
        "sidste_betalingsdag": last.isoformat(),
        "frist": frist,
        "regel": regel,
        "initiativtager": _INITIATIVTAGER[group],
    }


# --- lukning (Bilag 5: kommune, selvstændigt tilbud) --------------------------

_ØRE = Decimal("0.01")
_SHARE = Decimal("0.000001")
_SELVRISIKO_PCT = Decimal("0.05")


def _money(value: Any) -> Decimal:
    """Exact Decimal from a JSON number or decimal string (never via float)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def _kr(value: Decimal) -> str:
    return str(value.quantize(_ØRE, rounding=ROUND_HALF_UP))


def allocate(amount: Decimal, weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Split ``amount`` into whole øre by ``weights``; parts sum exactly.

    Integer arithmetic throughout: weights are scaled to integers, each part
    is floored, and the øre left over go to the largest remainders (ties by
    name, so the result never depends on dict order).
    """
    cents = int(amount.quantize(_ØRE, rounding=ROUND_HALF_UP) * 100)
    places = max((max(-w.as_tuple().exponent, 0) for w in weights.values()), default=0)
    scale = 10 ** places
    ints = {k: int(w * scale) for k, w in weights.items()}
    total = sum(ints.values())
    if total <= 0:
        raise ValueError("fordelingsnøglen summerer til nul")
    floors: dict[str, int] = {}
    remainders: dict[str, int] = {}
    for k, w in ints.items():
        floors[k], remainders[k] = divmod(cents * w, total)
    left = cents - sum(floors.values())
    for k in sorted(ints, key=lambda k: (-remainders[k], k))[:left]:
        floors[k] += 1
    return {k: Decimal(c).scaleb(-2) for k, c in floors.items()}


def lukning(case: Mapping[str, Any]) -> dict[str, Any]:
    """Closure settlement: selvrisiko for the driftsherre, the rest split by omsætning."""
    if case["driftsherre_type"] != "kommune" or case["organisering"] != "selvstaendigt":
        raise NotImplementedError("kun kommune + selvstaendigt er skrevet i hånden")
    year = dt.date.fromisoformat(case["beslutningsdato"]).year
    years = (str(year - 2), str(year - 1))
    budget = _money(case["budget"])
    akkumuleret = _money(case["aarsresultat"]) + _money(case.get("overfoert_resultat", 0))
    beloeb = abs(akkumuleret)
    selvrisiko = min(beloeb, (budget * _SELVRISIKO_PCT).quantize(_ØRE, rounding=ROUND_HALF_UP))
    til_fordeling = beloeb - selvrisiko

    weights = {
        part: sum((_money(per_year.get(y, 0)) for y in years), Decimal(0))
        for part, per_year in case["omsaetning"].items()
    }
    total = sum(weights.values(), Decimal(0))
    fordeling = allocate(til_fordeling, weights)
    driftsherre = case["driftsherre"]
    return {
        "akkumuleret_resultat": _kr(akkumuleret),
        "retning": "underskud" if akkumuleret < 0 else "overskud",
        "selvrisiko": _kr(selvrisiko),
        "til_fordeling": _kr(til_fordeling),
        "fordelingsnoegle": {k: str((w / total).quantize(_SHARE, rounding=ROUND_HALF_UP))
                             for k, w in weights.items()},
        "fordeling": {k: _kr(v) for k, v in fordeling.items()},
        "driftsherre_i_alt": _kr(selvrisiko + fordeling.get(driftsherre, Decimal(0))),
    }
