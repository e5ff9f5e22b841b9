"""A collection of compiled rulesets and the resolver that picks one.

The ruleset that applies is the one whose aftaleperiode covers the date of
the decision (*beslutningsåret*) in the given region.  Two periods of one
region that overlap would make that choice ambiguous, so they are an error
at load time.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import unicodedata
from pathlib import Path
from typing import Collection, Iterable

from ..model.compiler import RULESET_FILE, compile_folder
from ..errors import InvalidRuleset, NoRuleset, RulesetErrors
from ..load.files import within
from ..load.yamlload import Document, load_file
from ..model.extensions import CompileSession
from ..model.ruleset import Ruleset


class Registry:
    """Rulesets by id, with resolution by region and date."""

    def __init__(self, rulesets: Iterable[Ruleset]) -> None:
        self.rulesets: dict[str, Ruleset] = {r.id: r for r in rulesets}

    @classmethod
    def load(cls, roots: Iterable[Path], only: Collection[str] | None = None,
             session: CompileSession | None = None) -> "Registry":
        """Compile every ruleset folder under ``roots`` (libraries first).

        ``only`` names the rulesets a caller needs (a folder is named by its
        ruleset's id): then just those and the libraries they reuse
        (``genbrug``, read from the headers; all libraries if a header cannot
        tell) are compiled, which is most of a one-off CLI evaluation's
        start-up.  If one of them is not there, everything is loaded, so the
        ``no_ruleset`` error can list what exists.
        """
        headers = _Headers()
        refused: list[Path] = []
        found: dict[str, Path] = {}          # one folder named twice (by two roots) is loaded once
        for root in roots:
            for folder, real in _folders(Path(root), headers, refused):
                found.setdefault(real, folder)
        folders = list(found.values())
        library_folders = {f for f in folders if headers.is_library(f)}
        if only and set(only) <= {f.name for f in folders}:
            chosen = [f for f in folders if f.name in only]
            folders = chosen + [f for f in _reused(chosen, library_folders, headers) if f not in chosen]
        session = session or CompileSession()
        errors: list[InvalidRuleset] = [
            InvalidRuleset(f"mappen {f.name} er et symbolsk link til en mappe uden for {f.parent}; "
                           f"den indlæses ikke", location=f"{f.name}/{RULESET_FILE}:1") for f in refused]
        libraries: dict[str, Ruleset] = {}
        agreements: list[Ruleset] = []
        for folder in sorted(folders, key=lambda f: (f not in library_folders, f.name)):
            try:
                ruleset = compile_folder(folder, libraries, display_root=folder.parent, session=session,
                                         header=headers.get(folder))
            except RulesetErrors as exc:
                errors.extend(exc.errors)
                continue
            except InvalidRuleset as exc:
                errors.append(exc)
                continue
            (libraries if ruleset.kind == "bibliotek" else {})[ruleset.id] = ruleset
            agreements.append(ruleset)
        registry = cls(agreements)
        errors.extend(registry._overlaps())
        if errors:
            raise RulesetErrors(errors)
        return registry

    def _overlaps(self) -> list[InvalidRuleset]:
        found = []
        by_region: dict[str, list[Ruleset]] = {}
        for r in self.rulesets.values():
            if r.kind == "aftale":
                by_region.setdefault(r.region, []).append(r)
        for region, items in by_region.items():
            items.sort(key=lambda r: r.valid_from)
            for a, b in zip(items, items[1:]):
                if b.valid_from <= a.valid_to:
                    found.append(InvalidRuleset(
                        f"perioderne for {a.id} og {b.id} i region {region} overlapper "
                        f"({a.valid_from}–{a.valid_to} og {b.valid_from}–{b.valid_to}); ret gyldig_fra/gyldig_til, "
                        "så der kun er én aftale for hver dato",
                        location=f"{b.id}/{RULESET_FILE}:{b.header.line(('gyldig_fra',)) if b.header else 1}"))
        return found

    def get(self, ruleset_id: str) -> Ruleset:
        found = self.rulesets.get(ruleset_id)
        if found is None:
            folded = fold_name(ruleset_id)
            found = next((r for i, r in self.rulesets.items() if fold_name(i) == folded), None)
        if found is None:
            raise NoRuleset(f"ukendt regelsæt '{ruleset_id}'; kendte: {', '.join(self.ids())}",
                            details={"rulesets": self.ids()})
        return found

    def region_of(self, region: str) -> str | None:
        """The region id ``region`` names: exact, or the same when case, accents and "Region " are ignored."""
        regions = {r.region for r in self.rulesets.values() if r.kind == "aftale"}
        if region in regions:
            return region
        folded = fold_region(region)
        return next((r for r in sorted(regions) if fold_region(r) == folded), None)

    def regions(self) -> list[str]:
        return sorted({r.region for r in self.rulesets.values() if r.kind == "aftale"})

    def resolve(self, region: str, day: _dt.date) -> Ruleset:
        """The agreement of ``region`` whose period covers ``day``.

        ``region`` is matched as :func:`fold_region` spells it ("Nordjylland",
        "Region Sjælland" and "sjaelland" name the same region); an unknown
        region is named as such, with the regions that exist.
        """
        known = self.region_of(region)
        if known is None:
            raise NoRuleset(f"ukendt region '{region}'; kendte regioner: {', '.join(self.regions())}",
                            details={"rulesets": self.ids(), "regioner": self.regions()})
        found = self.covering(known, day)
        if found is not None:
            return found
        periods = [f"{r.id} ({r.valid_from}–{r.valid_to})" for r in self.agreements() if r.region == known]
        raise NoRuleset(f"intet regelsæt for region '{known}' dækker {day.isoformat()}; "
                        f"regionens regelsæt: {', '.join(periods)}", details={"rulesets": self.ids()})

    def covering(self, region: str, day: _dt.date) -> Ruleset | None:
        """The agreement of the region id ``region`` whose period covers ``day``, if any."""
        return next((r for r in self.rulesets.values()
                     if r.kind == "aftale" and r.region == region and r.covers(day)), None)

    def ids(self) -> list[str]:
        return sorted(self.rulesets)

    def agreements(self) -> list[Ruleset]:
        return sorted((r for r in self.rulesets.values() if r.kind == "aftale"), key=lambda r: (r.region, r.valid_from))


_FOLDS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})


def fold_name(text: str) -> str:
    """A name for comparison: Unicode-normalised, trimmed, case-folded, æ/ø/å as ae/oe/aa, no accents."""
    text = unicodedata.normalize("NFC", text).strip().casefold().translate(_FOLDS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.sub(r"[\s_]+", "-", text)


def fold_region(text: str) -> str:
    """:func:`fold_name` without a leading "Region " ("Region Sjælland" → "sjaelland")."""
    return re.sub(r"^region-", "", fold_name(text))


def _reused(folders: list[Path], libraries: Collection[Path], headers: "_Headers") -> list[Path]:
    """The libraries ``folders`` reuse (``genbrug``), and those the libraries reuse in turn.

    Every library when a header cannot tell (it does not parse, or its
    ``genbrug`` is not a list of entries): compiling them all then reports
    what is wrong, as a full load would.
    """
    by_id = {f.name: f for f in libraries}
    wanted: set[Path] = set()
    pending = list(folders)
    while pending:
        doc = headers.get(pending.pop())
        items = doc.data.get("genbrug", []) if doc is not None and isinstance(doc.data, dict) else None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            return sorted(libraries)
        for item in items:
            name = item.get("bibliotek")
            library = by_id.get(name) if isinstance(name, str) else None
            if library is not None and library not in wanted:
                wanted.add(library)
                pending.append(library)
    return sorted(wanted)


def _folders(root: Path, headers: "_Headers", refused: list[Path] | None = None) -> list[tuple[Path, str]]:
    """The ruleset folders ``root`` names, each with its resolved path; for one ruleset folder, also the
    libraries beside it.

    ``rammeaftale validate rulesets/nordjylland-2027`` must find the
    ``nationale-regler`` its ``genbrug`` names, as it does when all are loaded.
    Only folders inside the root count: a symlink to a folder elsewhere is not
    followed but added to ``refused``; files are read only through
    :func:`~engine.load.yamlload.load_file` (regular files inside the folder).
    """
    if (root / RULESET_FILE).exists() or (root / RULESET_FILE).is_symlink():
        real = os.path.realpath(root)
        beside = [(f, r) for f, r in _children(root.parent) if r != real and headers.is_library(f)]
        return [(root, real)] + sorted(beside)
    return _children(root, refused)


def _children(root: Path, refused: list[Path] | None = None) -> list[tuple[Path, str]]:
    """Sub-folders of ``root`` with a ruleset file (as ``glob('*/regelsaet.yaml')``, no hidden ones), each
    with its resolved path (resolved once: each ``realpath`` takes an ``lstat`` per path component)."""
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return []
    real_root = os.path.realpath(root)
    found = []
    for folder in entries:
        try:
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            meta = folder / RULESET_FILE
            if not (meta.exists() or meta.is_symlink()):
                continue
            real = os.path.realpath(folder)
            if not within(real, real_root):
                if refused is not None:
                    refused.append(folder)
                continue
            found.append((folder, real))
        except OSError:
            continue
    return found


class _Headers:
    """Each folder's ``regelsaet.yaml``, parsed once per load and handed on to the compiler."""

    def __init__(self) -> None:
        self._docs: dict[Path, Document | None] = {}

    def get(self, folder: Path) -> Document | None:
        """The parsed header, or ``None`` if it does not parse (the compiler then reports why)."""
        if folder not in self._docs:
            try:
                # The same display name as compile_folder(display_root=folder.parent) gives it.
                self._docs[folder] = load_file(folder / RULESET_FILE, str(Path(folder.name) / RULESET_FILE))
            except InvalidRuleset:
                self._docs[folder] = None
        return self._docs[folder]

    def is_library(self, folder: Path) -> bool:
        doc = self.get(folder)
        return doc is not None and isinstance(doc.data, dict) and doc.data.get("type") == "bibliotek"
