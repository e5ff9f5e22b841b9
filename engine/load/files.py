"""Reading project files: only regular files inside their root, and never more than a limit.

Ruleset folders come from people the engine does not control.  A file in one
may be a symlink to ``/dev/zero`` (read whole, it never ends), a named pipe
(``open`` blocks until someone writes), a device, a socket, or a symlink to a
file elsewhere on the machine.  :func:`read_regular_file` is the one way the
engine reads a project file — ruleset YAML, examples, the source texts the
report quotes — and refuses all of those as :class:`InvalidRuleset` with the
file, before reading a byte:

* the path, symlinks resolved, must lie inside ``root``;
* ``lstat`` of the resolved path must say *regular file* (so a FIFO or device
  is never even opened);
* it is opened with ``O_NOFOLLOW`` and ``O_NONBLOCK`` (a swapped-in FIFO cannot
  block), and ``fstat`` of the open descriptor must again say regular file,
  the same file, and no larger than ``limit``;
* at most ``limit + 1`` bytes are read, so a file that grows is caught too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import InvalidRuleset

_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
          | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "en mappe"
    if stat.S_ISFIFO(mode):
        return "en navngiven pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "en enhedsfil"
    if stat.S_ISSOCK(mode):
        return "en socket"
    if stat.S_ISLNK(mode):
        return "et symbolsk link"
    return "ikke en almindelig fil"


def within(real: str, real_root: str) -> bool:
    """Whether the resolved path ``real`` lies in (or is) the resolved folder ``real_root``.

    Both come from ``os.path.realpath``, which takes an ``lstat`` per path
    component: callers resolve a folder once and reuse it.
    """
    try:
        return os.path.commonpath([real_root, real]) == real_root
    except ValueError:                    # different drives (Windows)
        return False


def read_at_most(fd: int, limit: int) -> bytes | None:
    """The rest of open file ``fd``, or None if it holds more than ``limit`` bytes (never reads more than limit + 1)."""
    chunks, size = [], 0
    while size <= limit:
        chunk = os.read(fd, min(1 << 20, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return None if size > limit else b"".join(chunks)


def _resolve(path: Path | str, root: Path | str, real_root: str) -> str:
    """``os.path.realpath(path)``; for a file directly in ``root`` that is no symlink, from ``real_root``.

    ``realpath`` takes an ``lstat`` per path component; a load reads dozens of
    files from a few folders, so the folder is resolved once per file and the
    file itself costs one ``lstat``.  Anything else is resolved in full.
    """
    absolute = os.path.abspath(path)
    if os.path.dirname(absolute) == os.path.abspath(root):
        candidate = os.path.join(real_root, os.path.basename(absolute))
        try:
            if not stat.S_ISLNK(os.lstat(candidate).st_mode):
                return candidate
        except OSError:
            pass
    return os.path.realpath(path)


def read_regular_file(path: Path | str, root: Path | str | None, limit: int,
                      display: str | None = None) -> bytes:
    """The bytes of the regular file ``path``, which must lie inside ``root``.

    ``root`` None means the file's own folder.  Raises :class:`InvalidRuleset`
    located at ``display`` (default: the path) line 1 for anything else.
    """
    name = display or str(path)
    where = f"{name}:1"
    root = os.path.dirname(os.path.abspath(path)) if root is None else root
    real_root = os.path.realpath(root)
    real = _resolve(path, root, real_root)
    if not within(real, real_root):
        raise InvalidRuleset(f"filen peger uden for mappen {root} (symbolsk link til {real}); "
                             f"kun filer i mappen læses", location=where)
    try:
        before = os.lstat(real)
        if not stat.S_ISREG(before.st_mode):
            raise InvalidRuleset(f"filen er {_kind(before.st_mode)}, ikke en almindelig fil", location=where)
        fd = os.open(real, _FLAGS)
    except InvalidRuleset:
        raise
    except OSError as exc:
        raise InvalidRuleset(f"kan ikke læse filen: {exc.strerror or exc}", location=where) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) != (before.st_dev, before.st_ino):
            raise InvalidRuleset(f"filen blev udskiftet under læsningen eller er {_kind(info.st_mode)}",
                                 location=where)
        if info.st_size > limit:
            raise InvalidRuleset(f"filen er for stor ({info.st_size} bytes; højst {limit})", location=where)
        data = read_at_most(fd, limit)
        if data is None:
            raise InvalidRuleset(f"filen er for stor (over {limit} bytes; højst {limit})", location=where)
        return data
    except OSError as exc:
        raise InvalidRuleset(f"kan ikke læse filen: {exc.strerror or exc}", location=where) from exc
    finally:
        os.close(fd)
