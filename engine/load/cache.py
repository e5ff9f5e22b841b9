"""Parsed ruleset files kept between processes: it may make loading faster, never different.

Parsing YAML is a large part of loading the shipped rulesets, so a ruleset
file as :mod:`engine.load.yamlload` turned it into data plus the line of every
value is kept as JSON.  The cache only saves *parsing*: a document that comes
back from it goes through the same schema validation and compilation as a
freshly parsed one (there is no store of "already validated" files).

What makes an entry trustworthy:

* **Where it lives.** ``$XDG_CACHE_HOME/rammeaftale`` — only if that variable
  is an absolute path (the XDG spec says to ignore a relative one) — else
  ``~/.cache/rammeaftale``.  That folder is used only if the current user owns
  it, it is a real folder (not a symlink) and nobody else can write to it; it
  is created with mode ``0700`` (an older ``0755`` folder of ours is tightened
  to ``0700``).  This is checked with ``lstat`` on every use, for the folder
  and its ``dokumenter`` sub-folder.  A folder that fails the check is not
  used at all: no reading, no writing.
* **What it is bound to.** An entry's name is the SHA-256 of the source file's
  exact bytes (their SHA-256, which the document keeps anyway) together with
  the code that parses them (so an edited ruleset or a new engine version
  never finds an old entry).
* **That nobody changed it.** Each entry carries an HMAC-SHA256, under a
  random per-user key (``noegle``, mode ``0600``) of the entry's name and
  JSON text.  An entry that was edited, truncated, renamed to another key,
  copied from another machine or user, or written by an older version fails
  the check and is deleted and parsed again.  The key protects against anyone
  who can change entries but not read the key; the folder's permissions are
  what keep everyone else but the user (and root) out in the first place.
* **How it is written.** Into a temporary file (``mkstemp``: ``0600``,
  ``O_EXCL``) in the same folder, then ``os.replace``; the temporary file is
  removed if anything fails, and stale ones (a killed process) are swept.

Entries are plain JSON data — never pickles or code — and anything that goes
wrong reading one (damaged JSON, wrong shapes, a too-large file) means the
entry is ignored and the file parsed again, never an error.  A document has a
line for every key and list item, in document order, so an entry keeps just
the line numbers in that order and the paths are walked again from the data
(writing each path out was over half of every entry, and of reading it).
``RAMMEAFTALE_CACHE=0`` switches the cache off.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import os
import stat
import time
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from .files import read_at_most

MAX_DOCUMENTS = 2000
#: A 1 MB YAML file with 90 000 keys gives a few MB of JSON; this is far above that.
MAX_ENTRY_BYTES = 64_000_000
KEY_FILE = "noegle"
KEY_BYTES = 32
MAGIC = b"rammeaftale-cache 4"
STALE_TEMP_SECONDS = 3600

Lines = dict[tuple[Any, ...], int]
_THIS_FILE = Path(__file__)

_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0))


def _enabled() -> bool:
    return os.environ.get("RAMMEAFTALE_CACHE", "1") != "0" and hasattr(os, "getuid")


def location() -> str | None:
    """The cache folder the environment names (checked or not), or None if there is none.

    Plain strings here and below: the folder is looked up for every document
    of a load, and ``pathlib`` objects cost more than the checks themselves.
    """
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        base = xdg
    else:
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return os.path.join(base, "rammeaftale")


def _private_folder(path: str, create: bool) -> bool:
    """Whether ``path`` is a real folder the user owns and only the user can write (made if asked)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        if not create:
            return False
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        except OSError:
            return False
        try:
            info = os.lstat(path)
        except OSError:
            return False
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        return False
    if info.st_mode & 0o077:
        # Ours and writable only by us, but readable by others (made by an older
        # version under umask 022): tighten it through a descriptor, so a symlink
        # swapped in meanwhile is not followed.
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0))
            try:
                again = os.fstat(fd)
                if (again.st_dev, again.st_ino) != (info.st_dev, info.st_ino):
                    return False
                os.fchmod(fd, 0o700)
            finally:
                os.close(fd)
        except OSError:
            return False
    return True


def _documents(create: bool = False) -> str | None:
    """The checked ``dokumenter`` folder, or None if the cache may not be used."""
    if not _enabled():
        return None
    root = location()
    if root is None or not _private_folder(root, create):
        return None
    folder = os.path.join(root, "dokumenter")
    return folder if _private_folder(folder, create) else None


def _read_private(path: str, limit: int) -> bytes:
    """A regular file the user owns that nobody else can read or write; OSError/ValueError otherwise."""
    fd = os.open(path, _READ_FLAGS)
    try:
        info = os.fstat(fd)
        if (not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077
                or info.st_size > limit):
            raise ValueError(f"{path} er ikke en privat cache-fil")
        data = read_at_most(fd, limit)
        if data is None:
            raise ValueError(f"{path} er for stor")
        return data
    finally:
        os.close(fd)


def _write_private(folder: str, data: bytes) -> str:
    """A new temporary file (0600) in ``folder`` holding ``data``; removed again if writing fails.

    tempfile is imported here: a warm load only reads, and tempfile brings
    shutil, random, bz2 and lzma along (a few ms of every CLI call).
    """
    import tempfile
    fd, partial = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        _unlink(partial)
        raise
    return partial


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


_KEYS: dict[str, bytes] = {}


def _key(folder: str, create: bool) -> bytes | None:
    """The user's random HMAC key (made once, atomically), or None."""
    path = os.path.join(os.path.dirname(folder), KEY_FILE)
    if path in _KEYS:
        return _KEYS[path]
    try:
        key = _read_private(path, KEY_BYTES)
    except FileNotFoundError:
        if not create:
            return None
        try:
            partial = _write_private(os.path.dirname(folder), os.urandom(KEY_BYTES))
            try:
                os.link(partial, path)        # fails if another process made one first
            except FileExistsError:
                pass
            finally:
                _unlink(partial)
            key = _read_private(path, KEY_BYTES)
        except (OSError, ValueError):
            return None
    except (OSError, ValueError):
        return None
    if len(key) != KEY_BYTES:
        return None
    _KEYS[path] = key
    return key


def _mac(key: bytes, name: str, payload: bytes) -> bytes:
    return hmac.new(key, name.encode("ascii") + b"\0" + payload, hashlib.sha256).hexdigest().encode("ascii")


# --- parsed documents ----------------------------------------------------------------

def document_key(digest: str, reader: Path) -> str:
    """Key of the file whose bytes have the SHA-256 ``digest`` (hex), as read by the code in ``reader``.

    Built from the digest the document keeps anyway, so a file is hashed once.
    """
    return hashlib.sha256(f"{reader_digest((reader, _THIS_FILE))}:{digest}".encode()).hexdigest()


@cache
def reader_digest(files: tuple[Path, ...]) -> str:
    """Hash of the engine version and the files (code, schemas) that read a ruleset file.

    Part of every key, so changing the reader (or this module) makes every key new.
    """
    from .._version import __version__
    digest = hashlib.sha256(__version__.encode())
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_document(key: str) -> tuple[Any, Lines, dict[str, str]] | None:
    """(data, lines, schemas passed) stored under ``key`` if the entry is intact, else None (a bad entry is deleted)."""
    folder = _documents()
    if folder is None:
        return None
    secret = _key(folder, create=False)
    if secret is None:
        return None
    path = os.path.join(folder, f"{key}.json")
    try:
        blob = _read_private(path, MAX_ENTRY_BYTES)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        _unlink(path)
        return None
    try:
        magic, mac, payload = blob.split(b"\n", 2)
        if magic != MAGIC or not hmac.compare_digest(mac, _mac(secret, key, payload)):
            raise ValueError("forkert kontrolsum")
        stored = json.loads(payload.decode("utf-8"), object_hook=_decode)
        data, numbers = stored["data"], stored["lines"]
        paths = node_paths(data)
        if type(numbers) is not list or len(numbers) != len(paths) or not set(map(type, numbers)) <= {int}:
            raise ValueError("forkert linjeangivelse")
        passed = stored.get("passed", {})
        if not (isinstance(passed, dict) and all(isinstance(v, str) for v in passed.values())):
            raise ValueError("forkert skemaangivelse")
        return data, dict(zip(paths, numbers)), passed
    except Exception:  # noqa: BLE001 — any damage whatsoever means: parse the file again
        _unlink(path)
        return None


def store_document(key: str, data: Any, lines: Lines, passed: dict[str, str] | None = None) -> None:
    """Keep a document that loaded without error (silently not, if the cache cannot be used).

    ``passed``: schema name → digest of the schema files, for each schema this
    exact data passed; signed with the rest of the entry, so it can only be
    what this user's engine recorded after really running the check.
    """
    if list(lines) != node_paths(data):
        return                 # not one line per key and item, in document order: not kept
    folder = _documents(create=True)
    if folder is None:
        return
    secret = _key(folder, create=True)
    if secret is None:
        return
    try:
        _sweep(folder)
        payload = json.dumps({"data": _encode(data), "lines": list(lines.values()),
                              "passed": dict(passed or {})}, ensure_ascii=False).encode("utf-8")
        partial = _write_private(folder, MAGIC + b"\n" + _mac(secret, key, payload) + b"\n" + payload)
        try:
            os.replace(partial, os.path.join(folder, f"{key}.json"))
        except BaseException:
            _unlink(partial)
            raise
    except (OSError, ValueError, TypeError, RecursionError):
        pass


def _sweep(folder: str) -> None:
    """Bound the store and remove temporary files a killed process left behind."""
    names = os.listdir(folder)
    old = [n for n in names if n.endswith(".json")]
    if len(old) >= MAX_DOCUMENTS:
        for name in old:
            _unlink(os.path.join(folder, name))
    now = time.time()
    for name in names:
        if name.startswith(".") and name.endswith(".tmp"):
            path = os.path.join(folder, name)
            try:
                if now - os.lstat(path).st_mtime > STALE_TEMP_SECONDS:
                    _unlink(path)
            except OSError:
                pass


_NESTED = (dict, list)


def node_paths(data: Any) -> list[tuple[Any, ...]]:
    """The path of every value in ``data`` — the root, each key, each list item — in document order.

    These are the paths a parsed document has a line for, in the order it
    records them (:mod:`~rammeaftale.load.yamlparse` depth first, as written).
    """
    out: list[tuple[Any, ...]] = [()]

    def walk(path: tuple[Any, ...], value: Any) -> None:
        for key, item in (value.items() if type(value) is dict else enumerate(value)):
            here = path + (key,)
            out.append(here)
            if type(item) in _NESTED:
                walk(here, item)

    if type(data) in _NESTED:
        walk((), data)
    return out


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
