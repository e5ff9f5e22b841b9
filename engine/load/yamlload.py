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

Only regular files inside the ruleset folder are read (:mod:`engine.load.files`).
A file parsed before may come back from :mod:`engine.load.cache` without parsing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from . import cache
from .files import read_regular_file
from ..errors import InvalidRuleset
from .document import MAX_DEPTH, SAFE_C_DEPTH, Document, PathKey

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "Document", "PathKey", "load_file", "load_text"]
MAX_FILE_BYTES = 1_000_000
#: The code that turns YAML into a document: part of every cache key.
_PARSER = Path(__file__).with_name("yamlparse.py")


def load_file(path: Path | str, display: str | None = None, root: Path | str | None = None) -> Document:
    """Load one YAML file safely; raise :class:`InvalidRuleset` with file:line.

    Only a regular file inside ``root`` (default: the file's own folder, i.e.
    the ruleset folder) is read — see :func:`engine.load.files.read_regular_file`.
    A file whose exact bytes were parsed before may come back from
    :mod:`engine.load.cache` without parsing; the schema checks that follow
    are the same either way.
    """
    path = Path(path)
    name = display or str(path)
    raw = read_regular_file(path, root, MAX_FILE_BYTES, name)
    digest = hashlib.sha256(raw).hexdigest()
    key = cache.document_key(digest, _PARSER)
    stored = cache.load_document(key)
    if stored is not None:
        return Document(data=stored[0], file=name, lines=stored[1], digest=digest, cache_key=key, passed=stored[2])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InvalidRuleset("filen er ikke UTF-8: er den gemt som Windows-1252/ANSI? Gem den som UTF-8 "
                             f"(første tegn, der ikke kan læses, er byte {exc.start + 1})",
                             location=f"{name}:{line}") from None
    doc = load_text(text, name)
    doc.cache_key = key
    cache.store_document(key, doc.data, doc.lines)
    return doc


def load_text(text: str, name: str = "<tekst>") -> Document:
    """Load YAML text; the same rules as :func:`load_file`.

    PyYAML is imported here, on the first text that is really parsed: a process
    whose files all come from the cache never needs it (~25 ms of start-up).
    """
    from .yamlparse import parse
    return parse(text, name)


