"""Safe YAML loading that remembers where every value came from.

Rulesets are edited by people, so every later error must be able to say
``fil:linje``.  A :class:`Document` is plain data plus the line of every key
and list item.  :mod:`engine.yamlparse` makes one from YAML text — composing
with PyYAML's safe loader (no object construction, no ``!!python`` tags) and
converting the nodes itself — and enforces the format's own rules, stricter
than YAML's:

* duplicate keys are errors (YAML silently keeps the last one);
* aliases (``*anker``) are refused, which also makes alias bombs impossible;
* only ``true``/``false`` are booleans (YAML 1.1 also reads ``no``/``on``);
* numbers with a decimal point become ``Decimal``, never ``float``;
* file size and nesting depth are bounded.

A file read before comes back from :mod:`engine.cache` without parsing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import cache
from ..errors import InvalidRuleset

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 40
#: Depth libyaml's recursive C composer handles with a wide margin (it overflows
#: an 8 MB stack near 30 000); below it the event pre-scan is skipped.
SAFE_C_DEPTH = 2000

PathKey = tuple[Any, ...]


@dataclass
class Document:
    """Plain data plus the line of every mapping key and list item."""

    data: Any
    file: str
    lines: dict[PathKey, int] = field(default_factory=dict)
    digest: str = ""                      # sha256 of the text, for caches

    def line(self, path: PathKey = ()) -> int:
        """Line of ``path``, or of its nearest located ancestor."""
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def where(self, path: PathKey = ()) -> str:
        """``file:line`` of ``path`` for error messages."""
        return f"{self.file}:{self.line(path)}"


def load_file(path: Path | str, display: str | None = None) -> Document:
    """Load one YAML file safely; raise :class:`InvalidRuleset` with file:line.

    A file whose exact bytes loaded before is read back from :mod:`engine.cache`.
    """
    path = Path(path)
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidRuleset(f"kan ikke læse filen: {exc.strerror}", location=f"{name}:1") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidRuleset(f"filen er for stor ({len(raw)} bytes; højst {MAX_FILE_BYTES})",
                             location=f"{name}:1")
    key = cache.document_key(raw, Path(__file__).with_name("yamlparse.py"))
    stored = cache.load_document(key)
    if stored is not None:
        return Document(data=stored[0], file=name, lines=stored[1], digest=hashlib.sha256(raw).hexdigest())
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRuleset("filen er ikke UTF-8", location=f"{name}:1") from exc
    doc = load_text(text, name)
    cache.store_document(key, doc.data, doc.lines)
    return doc


def load_text(text: str, name: str = "<tekst>") -> Document:
    """Load YAML text; the same rules as :func:`load_file`.

    PyYAML is imported here, on the first text that is really parsed: a process
    whose files all come from the cache never needs it (~25 ms of start-up).
    """
    from .yamlparse import parse
    return parse(text, name)


