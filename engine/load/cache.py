"""What the engine remembers between processes: it can make loading faster, never different.

Two stores, both keyed by a hash of a file's exact bytes together with the
code or schemas that read it, so any change to either makes the key new:

* **validated** — keys of ruleset files that passed schema validation (see
  :func:`engine.schemas.check`); a plain text file of keys.
* **documents** — a ruleset file as :mod:`engine.yamlload` turned it into
  data plus the line of every value, as JSON.  Parsing YAML is the largest
  part of loading the shipped rulesets (about 60 of 180 ms on our 2-core
  machine); reading the JSON takes a fifth of that.  Only files that loaded
  without error are stored, and JSON can only give back data — never objects
  or code — so a tampered entry is no worse than an edited ruleset, which
  the compiler checks all the same.

The folder is ``$XDG_CACHE_HOME/rammeaftale`` or ``~/.cache/rammeaftale``;
``RAMMEAFTALE_CACHE=0`` switches both stores off, and a cache that cannot be
read or written is simply not used.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

MAX_KEYS = 5000
MAX_DOCUMENTS = 2000

Lines = dict[tuple[Any, ...], int]


def _enabled() -> bool:
    return os.environ.get("RAMMEAFTALE_CACHE", "1") != "0"


def _folder() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "rammeaftale"


# --- validated files ---------------------------------------------------------------

@cache
def _keys() -> set[str]:
    try:
        return set((_folder() / "skema-ok").read_text("ascii").split()) if _enabled() else set()
    except (OSError, UnicodeDecodeError):
        return set()


def seen(key: str) -> bool:
    """Whether the file behind ``key`` passed validation before."""
    return key in _keys()


def remember(key: str) -> None:
    """Record that the file behind ``key`` passed validation."""
    if not _enabled() or key in _keys():
        return
    keys = _keys()
    keys.add(key)
    try:
        path = _folder() / "skema-ok"
        path.parent.mkdir(parents=True, exist_ok=True)
        if len(keys) > MAX_KEYS:
            keys.clear()
            keys.add(key)
            path.write_text(key + "\n", "ascii")
        else:
            with path.open("a", encoding="ascii") as handle:
                handle.write(key + "\n")
    except OSError:
        pass


# --- parsed documents ----------------------------------------------------------------

def document_key(raw: bytes, reader: Path) -> str:
    """Key of a file's bytes as read by the code in ``reader`` (a module's source file)."""
    return hashlib.sha256(reader_digest((reader,)).encode() + b":" + raw).hexdigest()


@cache
def reader_digest(files: tuple[Path, ...]) -> str:
    """Hash of the engine version and the files (code, schemas) that read a ruleset file.

    Part of every key in both stores, so changing the reader makes every key new.
    """
    from .._version import __version__
    digest = hashlib.sha256(__version__.encode())
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_document(key: str) -> tuple[Any, Lines] | None:
    """(data, lines) stored under ``key``, or None."""
    if not _enabled():
        return None
    try:
        stored = json.loads((_folder() / "dokumenter" / f"{key}.json").read_text("utf-8"), object_hook=_decode)
        return stored["data"], {tuple(path): line for path, line in stored["lines"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store_document(key: str, data: Any, lines: Lines) -> None:
    """Keep a document that loaded without error."""
    if not _enabled():
        return
    folder = _folder() / "dokumenter"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        old = list(folder.glob("*.json"))
        if len(old) >= MAX_DOCUMENTS:
            for path in old:
                path.unlink(missing_ok=True)
        text = json.dumps({"data": _encode(data), "lines": [[list(p), n] for p, n in lines.items()]},
                          ensure_ascii=False)
        partial = folder / f"{key}.{os.getpid()}.tmp"
        partial.write_text(text, "utf-8")
        os.replace(partial, folder / f"{key}.json")
    except OSError:
        pass


def _encode(value: Any) -> Any:
    """JSON form of converted YAML: Decimals, dates and non-text keys are tagged."""
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and not (len(value) == 1 and next(iter(value)).startswith("$")):
            return {k: _encode(v) for k, v in value.items()}
        return {"$m": [[k, _encode(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, _dt.date):
        return {"$t": value.isoformat()}
    return value


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        (tag, value), = obj.items()
        if tag == "$d":
            return Decimal(value)
        if tag == "$t":
            return _dt.date.fromisoformat(value)
        if tag == "$m":
            return {k: v for k, v in value}
    return obj
