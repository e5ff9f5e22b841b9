"""A located document: plain data plus the line of every key and list item.

Shared by the reader (:mod:`.yamlload`) and the parser (:mod:`.yamlparse`),
which is why it is a module of its own: neither imports the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    #: Set when the document came from (or went into) the parse cache: its entry's key, and the
    #: schemas (name → digest of the schema files) this exact data is recorded as having passed.
    cache_key: str = ""
    passed: dict[str, str] = field(default_factory=dict)

    def line(self, path: PathKey = ()) -> int:
        """Line of ``path``, or of its nearest located ancestor."""
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def where(self, path: PathKey = ()) -> str:
        """``file:line`` of ``path`` for error messages."""
        return f"{self.file}:{self.line(path)}"
