"""What ``rammeaftale validate`` checks beyond compiling: paths, neighbours, citations, examples.

Compiling a folder (:mod:`rammeaftale.model.compiler`) catches every mistake
inside it.  A few mistakes are only visible from outside the folder:

* a path that does not exist, or holds no ruleset (an error, never "OK");
* a period that overlaps another agreement of the same region that is not in
  the folder being validated — the rulesets beside it, and those the command
  would otherwise load (the embedded ones or ``--rulesets``);
* a ``kilde`` whose source file is missing, or whose lines are past its end
  or only blank — against the project's own texts (``rulesets/kilder/``, see
  :mod:`.sources`) or an explicit folder (``--kilder``);
* an answered question without a worked example (``rammeaftale test`` and the
  project's test suite both count it as a failure).

Each problem is an :class:`InvalidRuleset` located at ``file:line``.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..errors import InvalidRuleset, RulesetErrors
from ..load.files import read_regular_file
from ..load.yamlload import Document, load_file
from ..model.compiler import EXAMPLES_DIR, RULESET_FILE
from ..model.ruleset import Ruleset
from .sources import Sources, explicit_sources

if TYPE_CHECKING:  # pragma: no cover
    from ..run.api import Engine



def path_problems(paths: Iterable[Path]) -> list[InvalidRuleset]:
    """A path that does not exist, is not a folder, or holds no ruleset."""
    out = []
    for path in paths:
        where = f"{path}:1"
        if not path.exists():
            out.append(InvalidRuleset(f"stien {path} findes ikke; angiv en regelsætmappe (med {RULESET_FILE}) "
                                      "eller en mappe med regelsætmapper", location=where))
        elif not path.is_dir():
            out.append(InvalidRuleset(f"{path} er ikke en mappe; angiv mappen, der indeholder {RULESET_FILE}",
                                      location=where))
        elif not (path / RULESET_FILE).exists() and not any(path.glob(f"*/{RULESET_FILE}")):
            out.append(InvalidRuleset(f"der er intet regelsæt i mappen {path} (hverken {RULESET_FILE} eller "
                                      f"undermapper med {RULESET_FILE})", location=where))
    return out


@dataclass(frozen=True)
class _Period:
    id: str
    region: str
    start: _dt.date
    end: _dt.date
    folder: Path


def _header_period(folder: Path) -> _Period | None:
    """The agreement period a folder's header declares, or None (a library, or a header that does not read)."""
    try:
        doc = load_file(folder / RULESET_FILE, f"{folder.name}/{RULESET_FILE}")
    except InvalidRuleset:
        return None
    data = doc.data
    if not isinstance(data, dict) or data.get("type", "aftale") != "aftale":
        return None
    start, end = data.get("gyldig_fra"), data.get("gyldig_til")
    if not isinstance(start, _dt.date) or not isinstance(end, _dt.date) or not isinstance(data.get("region"), str):
        return None
    return _Period(str(data.get("id")), data["region"], start, end, folder)


def _ruleset_folders(root: Path) -> list[Path]:
    if (root / RULESET_FILE).is_file():
        return [root]
    try:
        return sorted(p.parent for p in root.glob(f"*/{RULESET_FILE}") if not p.parent.name.startswith("."))
    except OSError:
        return []


def neighbour_overlaps(engine: "Engine", validated: Iterable[Path], known_roots: Iterable[Path]) -> list[InvalidRuleset]:
    """Periods of the validated rulesets that overlap an agreement of the same region outside them.

    ``validated`` are the paths given to ``validate``; for a single ruleset
    folder, the folders beside it count as known too (as they would if its
    parent were validated).  A known ruleset with the same id as a validated
    one is the same ruleset (a working copy), never an overlap.
    """
    validated = list(validated)
    roots = [p.parent for p in validated if (p / RULESET_FILE).is_file()] + list(known_roots)
    mine = {r.folder.resolve() for r in engine.rulesets()}
    ids = {r.id for r in engine.rulesets()}
    known: dict[str, _Period] = {}          # by id: the one beside the folder wins over an embedded one
    for root in roots:
        for folder in _ruleset_folders(Path(root)):
            if folder.resolve() not in mine and folder.name not in ids and folder.name not in known:
                period = _header_period(folder)
                if period is not None and period.id not in ids and period.id not in known:
                    known[period.id] = period
    out = []
    for ruleset in sorted(engine.registry.agreements(), key=lambda r: r.id):
        for other in sorted(known.values(), key=lambda p: (p.region, p.start)):
            if other.region == ruleset.region and ruleset.valid_from <= other.end and other.start <= ruleset.valid_to:
                out.append(InvalidRuleset(
                    f"perioden {ruleset.valid_from}–{ruleset.valid_to} overlapper {other.id} "
                    f"({other.start}–{other.end}, i {other.folder.parent}) i region {ruleset.region}; "
                    "ret gyldig_fra/gyldig_til, så der kun er én aftale for hver dato",
                    location=_where(ruleset, "gyldig_fra")))
    return out


def _where(ruleset: Ruleset, key: str) -> str:
    if ruleset.header is not None:
        return f"{ruleset.id}/{RULESET_FILE}:{ruleset.header.line((key,))}"
    return f"{ruleset.id}/{RULESET_FILE}:1"


# --- citations ------------------------------------------------------------------------

def default_sources() -> Path | None:
    """An explicit source folder (``$RAMMEAFTALE_KILDER``); None means the project's own texts."""
    return explicit_sources()


def citation_problems(engine: "Engine", sources: Path | None = None) -> list[InvalidRuleset]:
    """Every ``kilde`` (and every file under ``kilder``) of every loaded ruleset, checked against the texts.

    ``sources``: an explicit folder that replaces the lookup of :mod:`.sources`
    (None: ``kilder/`` beside each ruleset, then the project's own texts).
    """
    rulesets = sorted(engine.rulesets(), key=lambda r: r.id)
    texts = Sources(sources, rulesets)
    out: list[InvalidRuleset] = []
    for name, ruleset, fil, first in texts.conflicts:
        out.append(InvalidRuleset(
            f"kortnavnet '{name}' står for {fil} her, men for {first} i et andet regelsæt; et kortnavn skal "
            "betyde den samme tekst overalt (vælg et andet kortnavn)", location=ruleset.where(("kilder", name))))
    for ruleset in rulesets:
        for doc in _documents(ruleset):
            data = doc.data if isinstance(doc.data, dict) else {}
            if doc.file.endswith("/" + RULESET_FILE):
                for name, spec in ruleset.sources.items():
                    if texts.lines(name) is None:
                        out.append(InvalidRuleset(
                            f"kildefilen '{spec.get('fil')}' findes ikke i {texts.where(name)}; læg aftaleteksten "
                            f"dér (PDF → tekst, fx pdftotext -layout), eller ret fil under kilder",
                            location=ruleset.where(("kilder", name, "fil") if isinstance(data.get("kilder"), dict)
                                                   else ("kilder",))))
            for path, kilde in _citations(doc.data, ()):
                if doc.file.endswith("/" + RULESET_FILE) and path[:1] == ("genverificer",):
                    continue          # the citation a rule had in the ruleset it was copied from
                problem = texts.problem(kilde)
                if problem:
                    out.append(InvalidRuleset(problem, location=doc.where(path)))
    return out


def _documents(ruleset: Ruleset) -> Iterator[Document]:
    folder = ruleset.folder
    files = sorted(folder.glob("*.yaml")) + sorted((folder / EXAMPLES_DIR).glob("*.yaml"))
    for path in files:
        try:
            yield load_file(path, f"{ruleset.id}/{path.relative_to(folder)}", root=folder)
        except InvalidRuleset:
            continue                # reported by the compiler or by 'test'


def _citations(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "kilde" and isinstance(inner, str):
                yield path + (key,), inner
            else:
                yield from _citations(inner, path + (key,))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _citations(inner, path + (i,))


# --- examples ----------------------------------------------------------------------------

def example_problems(engine: "Engine") -> list[InvalidRuleset]:
    """Every problem of every examples file (``eksempler/*.yaml``) of the loaded rulesets, at file:line.

    Read exactly as ``rammeaftale test`` reads them (:func:`examples.load_examples`): a FIFO, a
    device, a symlink out of the folder, an oversized, unparsable or schema-invalid file is an error.
    """
    from . import examples
    found: list[InvalidRuleset] = []
    for ruleset in sorted(engine.rulesets(), key=lambda r: r.id):
        for path in examples.example_files(ruleset):
            try:
                examples.load_examples(ruleset, path)
            except RulesetErrors as exc:
                found.extend(exc.errors)
            except InvalidRuleset as exc:
                found.append(exc)
    return found


def missing_examples(engine: "Engine", only: str | None = None) -> list[tuple[Ruleset, str]]:
    """(agreement, question) pairs the agreement answers with rules of its own but no example for.

    The same rule as the project's test suite (``tests/test_examples.py``), so
    ``rammeaftale test`` and CI agree.
    """
    from . import examples
    covered = {(e.ruleset, e.question) for e in examples.discover(engine)}
    return [(r, q) for r in engine.registry.agreements() if only in (None, r.id)
            for q, rule in sorted(r.questions.items())
            if rule.owner == r.id and (r.id, q) not in covered]
