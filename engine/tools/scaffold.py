"""Start the next agreement period from the current one (``ny-periode``).

A new rammeaftale mostly repeats the last one, so the fastest honest start is
a copy — but a copied rule is a claim about a text nobody has read yet.  The
copy is therefore an ``udkast``, and every rule it contains is listed under
``genverificer`` in ``regelsaet.yaml`` together with the citation it had in
the old ruleset.  A rule counts as unverified for as long as its ``kilde`` is
still that old citation; ``rammeaftale validate`` warns about each one
(a warning, not an error: a draft may be incomplete).  Updating the ``kilde``
to the new text is the act of verification.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from ..model.compiler import EXAMPLES_DIR, RULESET_FILE
from ..errors import InvalidCase
from .rulemap import rules
from ..model.ruleset import Ruleset

if TYPE_CHECKING:  # pragma: no cover
    from ..run.api import Engine

ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
#: Header keys the copy rewrites; everything else in regelsaet.yaml is kept as written.
REWRITTEN = ("id", "gyldig_fra", "gyldig_til", "status", "status_begrundelse", "afloeser", "genverificer")


@dataclass
class Scaffold:
    """What ``ny-periode`` wrote and what the secretariat must look at."""

    folder: Path
    to_verify: int
    notes: list[str] = field(default_factory=list)


def new_period(engine: "Engine", from_id: str, new_id: str, fra: _dt.date, til: _dt.date,
               target: Path | None = None) -> Scaffold:
    """Copy ruleset ``from_id`` to ``target/new_id`` as an udkast for ``fra``–``til``."""
    source = engine.ruleset(from_id)
    _check(engine, source, new_id, fra, til)
    folder = (target or source.folder.parent) / new_id
    if folder.exists():
        raise InvalidCase(f"mappen {folder} findes allerede", path="new_id")
    shutil.copytree(source.folder, folder, ignore=shutil.ignore_patterns(EXAMPLES_DIR, "__pycache__", "*.pyc"))
    entries = [(r.id, r.kilde) for r in rules(source).values() if r.kilde]
    header = folder / RULESET_FILE
    header.write_text(_rewrite(header.read_text("utf-8"), source, new_id, fra, til, entries), "utf-8")
    return Scaffold(folder, len(entries), _notes(source))


def _check(engine: "Engine", source: Ruleset, new_id: str, fra: _dt.date, til: _dt.date) -> None:
    if not ID_PATTERN.match(new_id):
        raise InvalidCase(f"id '{new_id}' skal være små bogstaver, tal og bindestreger (fx syddanmark-2027)",
                          path="new_id")
    if new_id in engine.registry.rulesets:
        raise InvalidCase(f"regelsættet '{new_id}' findes allerede", path="new_id")
    if fra > til:
        raise InvalidCase("--fra ligger efter --til", path="fra")
    for other in engine.registry.agreements():
        if other.region == source.region and fra <= other.valid_to and other.valid_from <= til:
            raise InvalidCase(f"perioden {fra}–{til} overlapper {other.id} ({other.valid_from}–{other.valid_to}) "
                              f"i region {source.region}", path="fra")


def _rewrite(text: str, source: Ruleset, new_id: str, fra: _dt.date, til: _dt.date,
             entries: Iterable[tuple[str, str]]) -> str:
    """The copied header with the new identity and the re-verification list.

    Which top-level keys exist and on which line each starts comes from the
    parsed header (``source.header``); the edit itself is line-based so the
    secretariat's comments and layout survive the copy.
    """
    lines = text.splitlines()
    starts = {key: _start(source, key) for key in REWRITTEN if key in source.data}
    at = starts.get("id")
    for key, start in sorted(starts.items(), key=lambda item: -item[1]):   # bottom-up: earlier lines stay put
        end = start + 1
        while end < len(lines) and _continues(lines, end):
            end += 1
        del lines[start:end]
        if at is not None and start < at:
            at -= end - start
    reason = (f"Oprettet med 'rammeaftale ny-periode' fra {source.id} den {_dt.date.today().isoformat()}. "
              "Reglerne er kopieret fra den forrige periode og skal genverificeres mod den nye aftaletekst "
              "(se genverificer).")
    head = [f"id: {new_id}", f"gyldig_fra: {fra.isoformat()}", f"gyldig_til: {til.isoformat()}", "status: udkast",
            f"status_begrundelse: {json.dumps(reason, ensure_ascii=False)}", f"afloeser: {source.id}"]
    at = min(at if at is not None else 0, len(lines))
    lines[at:at] = head
    tail = ["", "# Regler kopieret fra den forrige periode. Slet en linje, når reglens kilde er opdateret.",
            "genverificer:"]
    for regel, kilde in entries:
        tail += [f"  - regel: {regel}", f"    kilde: {json.dumps(kilde, ensure_ascii=False)}"]
    return "\n".join(lines + tail) + "\n"


def _start(source: Ruleset, key: str) -> int:
    """0-based index of the line where the top-level ``key`` starts in ``regelsaet.yaml``."""
    return source.header.line((key,)) - 1 if source.header is not None else 0


def _continues(lines: list[str], i: int) -> bool:
    line = lines[i]
    if line.strip() == "":
        nxt = next((x for x in lines[i + 1:] if x.strip()), "")
        return nxt[:1] in (" ", "\t")
    return line[:1] in (" ", "\t", "-")


def _notes(source: Ruleset) -> list[str]:
    notes = [f"Eksemplerne i {EXAMPLES_DIR}/ er ikke kopieret: de er regnet efter den gamle tekst."]
    for name, question in sorted(source.questions.items()):
        if question.owner != source.id:
            notes.append(f"'{name}' genbruges fra biblioteket '{question.owner}' og er ikke kopieret.")
        elif question.valid_from or question.valid_to:
            notes.append(f"'{name}' har sin egen gyldighedsperiode ({question.valid_from}–{question.valid_to}); "
                         "ret den i spørgsmålsfilen.")
    return notes


# --- re-verification warnings ---------------------------------------------------

def unverified(ruleset: Ruleset) -> list[str]:
    """One warning per rule still carrying the citation it was copied with."""
    wanted = ruleset.data.get("genverificer") or []
    if not wanted:
        return []
    current = rules(ruleset)
    out = []
    for entry in wanted:
        rule = current.get(entry["regel"])
        if rule is not None and rule.kilde == entry["kilde"]:
            out.append(f"{ruleset.id}: reglen {rule.id} ({rule.where}) er ikke genverificeret mod den nye "
                       f"tekst; kilden er stadig '{rule.kilde}'")
    return out


def validation_warnings(engine: "Engine") -> list[str]:
    """Warnings ``validate`` prints for every loaded ruleset (never errors)."""
    return [w for r in sorted(engine.rulesets(), key=lambda r: r.id) for w in unverified(r)]
