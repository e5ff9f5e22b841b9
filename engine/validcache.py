"""Remember which ruleset files already passed schema validation.

A key is the hash of a file's text together with the schemas and the engine
version (see :func:`engine.schemas.check`), so any change to the file or the
format makes the key new and the file is validated again.  Only successes
are stored.  The cache is a plain text file of keys in the user's cache
folder (``$XDG_CACHE_HOME/rammeaftale`` or ``~/.cache/rammeaftale``);
``RAMMEAFTALE_CACHE=0`` switches it off, and a cache that cannot be read or
written is simply not used — it can make loading faster, never different.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

MAX_KEYS = 5000


def _enabled() -> bool:
    return os.environ.get("RAMMEAFTALE_CACHE", "1") != "0"


def _path() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "rammeaftale" / "skema-ok"


@cache
def _keys() -> set[str]:
    try:
        return set(_path().read_text("ascii").split()) if _enabled() else set()
    except (OSError, UnicodeDecodeError):
        return set()


def seen(key: str) -> bool:
    return key in _keys()


def remember(key: str) -> None:
    if not _enabled() or key in _keys():
        return
    keys = _keys()
    keys.add(key)
    try:
        path = _path()
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
