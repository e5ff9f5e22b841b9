"""The agreement texts the rules cite, found inside the project and read as ``grep -n`` counts lines.

A ruleset declares its sources once, under ``kilder`` in ``regelsaet.yaml``,
each with a short name, and cites them as ``KORTNAVN:LINJE[-LINJE] henvisning``
(``ra2021:1882-1884 Bilag 5``).  The texts ship with the project:
``rulesets/kilder/`` (the ``rammeaftale_rulesets`` package, so an installed
wheel has them too).  A source's ``fil`` is looked up, in this order, in

1. the folder given explicitly (``--kilder MAPPE`` or ``$RAMMEAFTALE_KILDER``),
   which then replaces the others;
2. ``kilder/`` beside the ruleset's folder (a working copy outside the
   project keeps its new agreement's text there);
3. the embedded ``kilder/`` of the installed rulesets.

Only a plain file name naming a regular file inside one of those folders is
read, through :func:`~rammeaftale.load.files.read_regular_file` (no ``../``,
no symlink out of the folder, no FIFO or device).  Lines are split at
``"\\n"`` only: the extracted PDFs may contain form feeds, which
``str.splitlines`` would also split at, and a citation must be the line
``grep -n`` shows.

Short names mean one text across every ruleset loaded together (``ra2021`` is
the same file wherever it is cited); ``validate`` reports a short name that
two rulesets give different files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import InvalidRuleset
from ..load.files import read_regular_file
from ..model.compiler import KILDE_PATTERN
from ..model.ruleset import Ruleset
from ..run.api import embedded_rulesets

#: The folder of source texts, beside the ruleset folders.
SOURCES_FOLDER = "kilder"
#: A source file name as ``kilder`` may give it: one plain name, no folder, not hidden.
SOURCE_NAME = re.compile(r"[^./\\:\x00-\x1f][^/\\:\x00-\x1f]*")
MAX_SOURCE_BYTES = 20_000_000


def embedded_sources() -> Path:
    """The project's own copy of the agreement texts (``rulesets/kilder/``, in the wheel too)."""
    return embedded_rulesets() / SOURCES_FOLDER


def explicit_sources() -> Path | None:
    """``$RAMMEAFTALE_KILDER``, if set (it replaces the project's own texts, e.g. to check a new copy)."""
    env = os.environ.get("RAMMEAFTALE_KILDER")
    return Path(env) if env else None


def folders_for(ruleset: Ruleset, override: Path | None = None) -> list[Path]:
    """Where ``ruleset``'s source files are looked up, in order."""
    if override is not None:
        return [override]
    out: list[Path] = []
    for folder in (ruleset.folder.parent / SOURCES_FOLDER, embedded_sources()):
        if folder.is_dir() and all(os.path.realpath(folder) != os.path.realpath(f) for f in out):
            out.append(folder)
    return out


class Sources:
    """Resolve and quote citations of the rulesets loaded together.

    ``folder``: an explicit source folder that replaces the default lookup
    (None: the project's own texts).  ``rulesets``: whose ``kilder`` give the
    short names.  Without rulesets only the old form (``FIL.txt:LINJE``) and
    the embedded texts can be resolved.
    """

    def __init__(self, folder: Path | None = None, rulesets: Iterable[Ruleset] = ()) -> None:
        self.override = folder
        self.folder = folder if folder is not None and folder.is_dir() else None
        self._names: dict[str, tuple[str, list[Path]]] = {}        # short name -> (file, folders)
        self.conflicts: list[tuple[str, Ruleset, str, str]] = []   # (short, ruleset, its file, the file first seen)
        for ruleset in rulesets:
            self.add(ruleset)
        self._files: dict[tuple[str, str], list[str] | None] = {}

    @property
    def available(self) -> bool:
        """Whether any source folder exists (an explicit one, or the project's own)."""
        if self.override is not None:
            return self.folder is not None
        return embedded_sources().is_dir() or any(f for _, fs in self._names.values() for f in fs)

    def add(self, ruleset: Ruleset) -> None:
        folders = folders_for(ruleset, self.override)
        for name, spec in ruleset.sources.items():
            fil = str(spec.get("fil"))
            known = self._names.get(name)
            if known is None:
                self._names[name] = (fil, folders)
            elif known[0] != fil:
                self.conflicts.append((name, ruleset, fil, known[0]))

    def file_of(self, name: str) -> str | None:
        """The file a short name stands for (an old-form ``FIL.txt`` stands for itself)."""
        if name in self._names:
            return self._names[name][0]
        return name if name.endswith(".txt") else None

    def path_of(self, name: str) -> Path | None:
        """The readable file behind a short name (or an old-form file name), or None."""
        fil = self.file_of(name)
        if fil is None or not SOURCE_NAME.fullmatch(fil):
            return None
        folders = self._names[name][1] if name in self._names else (
            [self.override] if self.override is not None else [embedded_sources()])
        return next((f / fil for f in folders if (f / fil).is_file()), None)

    def lines(self, name: str) -> list[str] | None:
        """The lines of a source (by short name), split as ``grep -n`` counts them; None if unreadable."""
        path = self.path_of(name)
        if path is None:
            return None
        key = (str(path.parent), path.name)
        if key not in self._files:
            self._files[key] = None
            try:
                raw = read_regular_file(path, path.parent, MAX_SOURCE_BYTES)
            except InvalidRuleset:
                raw = None
            if raw is not None:
                # "\n" only: form feeds left by the PDF extraction must not count as line breaks.
                lines = raw.decode("utf-8", errors="replace").split("\n")
                if len(lines) > 1 and lines[-1] == "":
                    lines.pop()           # the final newline ends the last line; grep -n shows no line after it
                self._files[key] = lines
        return self._files[key]

    def quote(self, kilde: str | None, max_lines: int = 12) -> list[tuple[int, str]]:
        """``(line number, text)`` of the cited lines (at most ``max_lines``), or [] if not at hand."""
        match = KILDE_PATTERN.match(kilde or "")
        if not match:
            return []
        lines = self.lines(match["navn"])
        if not lines:
            return []
        start = int(match["fra"])
        end = min(int(match["til"] or start), start + max_lines - 1, len(lines))
        return [(n, lines[n - 1].rstrip()) for n in range(start, end + 1)]

    def problem(self, kilde: str) -> str | None:
        """What is wrong with a citation against the texts: a missing file, lines past the end, blank lines."""
        match = KILDE_PATTERN.match(kilde)
        if not match:
            return None                 # the compiler reports the form
        name = match["navn"]
        fil = self.file_of(name)
        if fil is None:
            return None                 # the compiler reports an unknown short name
        lines = self.lines(name)
        if lines is None:
            return (f"kilde '{kilde}': filen {fil} findes ikke blandt kildeteksterne "
                    f"({self.where(name)}); læg aftaleteksten dér, eller ret fil under kilder")
        start, end = int(match["fra"]), int(match["til"] or match["fra"])
        if start < 1:
            return f"kilde '{kilde}': linjenumre begynder ved 1"
        if end > len(lines):
            return (f"kilde '{kilde}' peger ud over filens sidste linje ({len(lines)}); "
                    f"ret linjenummeret (slå op med: grep -n 'ord fra teksten' {self.path_of(name) or fil})")
        if not any(line.strip() for line in lines[start - 1:end]):
            return f"kilde '{kilde}' peger kun på tomme linjer; ret linjenummeret"
        return None

    def where(self, name: str) -> str:
        """The folders a short name's file is looked for in, for messages."""
        folders = self._names[name][1] if name in self._names else [self.override or embedded_sources()]
        return " eller ".join(str(f) for f in folders if f is not None) or "ingen kildemappe"

    def listing(self) -> Iterator[str]:
        for name, (fil, _) in sorted(self._names.items()):
            yield f"{name}: {fil}"
