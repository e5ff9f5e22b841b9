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
from pathlib import Path
from typing import Any

from . import cache
from ..errors import InvalidRuleset
from .document import MAX_DEPTH, SAFE_C_DEPTH, Document, PathKey

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "Document", "PathKey", "load_file", "load_text"]
MAX_FILE_BYTES = 1_000_000


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


