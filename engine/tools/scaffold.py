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
REWRITTEN = ("id", "navn", "gyldig_fra", "gyldig_til", "status", "status_begrundelse", "afloeser", "genverificer")


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
    parent = target or source.folder.parent
    if installed(parent):
        raise InvalidCase(f"{parent} ligger i en installeret pakke; det nye regelsæt ville ændre de indbyggede "
                          f"regelsæt. Angiv en mappe med --mappe (fx --mappe regelsaet)", path="mappe")
    folder = parent / new_id
    if folder.exists():
        raise InvalidCase(f"mappen {folder} findes allerede", path="new_id")
    shutil.copytree(source.folder, folder, ignore=shutil.ignore_patterns(EXAMPLES_DIR, "__pycache__", "*.pyc"))
    entries = [(r.id, r.kilde) for r in rules(source).values() if r.kilde]
    header = folder / RULESET_FILE
    header.write_text(_rewrite(header.read_text("utf-8"), source, new_id, fra, til, entries), "utf-8")
    _editor_support(folder)
    return Scaffold(folder, len(entries), _notes(source) + [_text_note(parent)] + _prose_notes(source, folder, new_id))


def _text_note(parent: Path) -> str:
    """Where the new agreement's text goes, and how it is cited."""
    return (f"Læg den nye aftaletekst i {parent / 'kilder'}/ (PDF → tekst: pdftotext -layout AFTALE.pdf "
            f"{parent / 'kilder'}/REGION-rammeaftale-ÅR.txt), skriv den under kilder i {RULESET_FILE} med et "
            "kortnavn (fx ra2027: {fil: …, titel: …}), og citér den som ra2027:LINJE (grep -n viser linjen). "
            "Se rulesets/kilder/README.md.")


def installed(folder: Path) -> bool:
    """Whether ``folder`` lies inside an installed Python package folder (site-packages)."""
    import site
    import sysconfig
    roots = {sysconfig.get_paths().get(k) for k in ("purelib", "platlib")}
    roots |= set(getattr(site, "getsitepackages", lambda: [])())
    roots.add(getattr(site, "getusersitepackages", lambda: None)())
    real = folder.resolve()
    for root in filter(None, roots):
        try:
            real.relative_to(Path(root).resolve())
            return True
        except ValueError:
            continue
    return "site-packages" in real.parts or "dist-packages" in real.parts


def _editor_support(folder: Path) -> None:
    """The first line of each file names its JSON Schema, published beside the ruleset folders."""
    from .editor import SCHEMA_FOLDER, modeline, publish
    publish(folder.parent / SCHEMA_FOLDER)
    for path in sorted(folder.glob("*.yaml")):
        text = path.read_text("utf-8")
        if text.startswith("# yaml-language-server:"):
            continue
        schema = "ruleset.schema.json" if path.name == RULESET_FILE else "question.schema.json"
        path.write_text(modeline(schema) + "\n" + text, "utf-8")


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
    head = [f"id: {new_id}", f"navn: {json.dumps(retitle(source, fra, til), ensure_ascii=False)}",
            f"gyldig_fra: {fra.isoformat()}", f"gyldig_til: {til.isoformat()}", "status: udkast",
            f"status_begrundelse: {json.dumps(reason, ensure_ascii=False)}", f"afloeser: {source.id}"]
    at = min(at if at is not None else 0, len(lines))
    lines[at:at] = head
    tail = ["", "# Regler kopieret fra den forrige periode. Slet en linje, når reglens kilde er opdateret.",
            "genverificer:"]
    for regel, kilde in entries:
        tail += [f"  - regel: {regel}", f"    kilde: {json.dumps(kilde, ensure_ascii=False)}"]
    return "\n".join(lines + tail) + "\n"


def retitle(source: Ruleset, fra: _dt.date, til: _dt.date) -> str:
    """The old ``navn`` with the new period's years: "Rammeaftale Syddanmark 2021-2022" → "… 2027-2028"."""
    old_from, old_to = source.valid_from.year, source.valid_to.year
    name = source.name
    span = re.compile(rf"{old_from}\s*[-–/]\s*(?:{old_to}|{str(old_to)[2:]})")
    new_span = f"{fra.year}-{til.year}" if fra.year != til.year else str(fra.year)
    if span.search(name):
        return span.sub(new_span, name, count=1)
    if str(old_from) in name:
        return name.replace(str(old_from), new_span, 1)
    return f"{name} ({new_span})"


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


# --- numbers in prose -------------------------------------------------------------

PROSE_KEYS = ("tekst", "fortolkning", "beskrivelse", "titel", "status_begrundelse")


def number_forms(value: Any) -> list[str]:
    """How a parameter's value is written in Danish prose: ``0.05`` → ``5 %``, ``0,05``; ``1320000`` → ``1.320.000``."""
    from decimal import Decimal
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return []
    number = Decimal(value)
    forms = []
    plain = format(number.normalize(), "f") if number != number.to_integral_value() else str(int(number))
    forms.append(plain.replace(".", ","))
    if number == number.to_integral_value() and abs(number) >= 1000:
        forms.append(f"{int(number):,}".replace(",", "."))
    if 0 < abs(number) < 1:
        percent = number * 100
        text = format(percent.normalize(), "f") if percent != percent.to_integral_value() else str(int(percent))
        forms.append(text.replace(".", ",") + " %")
        forms.append(text.replace(".", ",") + "%")
    return forms


def prose_mentions(folder: Path, display: str, value: Any) -> list[str]:
    """``file:line`` of every prose text (tekst, fortolkning, …) in ``folder`` that writes ``value``."""
    from ..errors import InvalidRuleset
    from ..load.yamlload import load_file
    forms = number_forms(value)
    if not forms:
        return []
    pattern = re.compile("|".join(rf"(?<![\d.,]){re.escape(f)}(?![\d]|,\d)" for f in forms))
    found = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            doc = load_file(path, f"{display}/{path.name}", root=folder)
        except InvalidRuleset:
            continue
        for where, text in _prose(doc.data, ()):
            if pattern.search(text):
                found.append(doc.where(where))
    return found


def _prose(value: Any, path: tuple[Any, ...]) -> Iterable[tuple[tuple[Any, ...], str]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in PROSE_KEYS and isinstance(inner, str):
                yield path + (key,), inner
            else:
                yield from _prose(inner, path + (key,))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _prose(inner, path + (i,))


def _prose_notes(source: Ruleset, folder: Path, new_id: str) -> list[str]:
    notes = []
    for name, parameter in source.parameters.items():
        places = prose_mentions(folder, new_id, parameter.value)
        if places:
            notes.append(f"Parameteren {name} = {parameter.value} står også i teksten ({', '.join(places[:6])}"
                         f"{' …' if len(places) > 6 else ''}); ret teksten med, hvis værdien ændres.")
    return notes


def stale_prose(ruleset: Ruleset, previous: Ruleset) -> list[str]:
    """Prose in ``ruleset`` that still writes the old value of a parameter changed since ``previous``."""
    out = []
    for name, parameter in ruleset.parameters.items():
        old = previous.parameters.get(name)
        if old is None or old.value == parameter.value or not number_forms(old.value):
            continue
        for place in prose_mentions(ruleset.folder, ruleset.id, old.value):
            out.append(f"{place}: teksten nævner stadig {old.value}, den gamle værdi af {name} "
                       f"(nu {parameter.value}); ret teksten, hvis den handler om {name}")
    return out


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


def validation_warnings(engine: "Engine", known: Iterable[Path] = ()) -> list[str]:
    """Warnings ``validate`` prints for every loaded ruleset (never errors).

    ``known``: folders of other rulesets, where the period a new one replaces
    (``afloeser``) is looked up when it was not validated with it.
    """
    out = [w for r in sorted(engine.rulesets(), key=lambda r: r.id) for w in r.format_warnings + unverified(r)]
    wanted = {r.data.get("afloeser") for r in engine.rulesets()} - {None} - set(engine.registry.rulesets)
    others: dict[str, Ruleset] = {}
    if wanted and known:
        from ..errors import EngineError
        from ..run.api import Engine
        try:
            others = Engine.from_path(*known, only=wanted).registry.rulesets
        except EngineError:
            others = {}
    for r in sorted(engine.rulesets(), key=lambda r: r.id):
        name = r.data.get("afloeser") or ""
        previous = engine.registry.rulesets.get(name) or others.get(name)
        if previous is not None:
            out += stale_prose(r, previous)
    return out
