"""``rammeaftale batch``: one question for many cases (JSON Lines or CSV).

The output file is written under a temporary name beside the target
(``.NAVN.xxxx.tmp``) and renamed into place only when every row has been
written; a run that is stopped or fails leaves the target untouched (a killed
process can leave the hidden ``.tmp`` file, never a complete-looking output).
With ``--output -`` there is no file to rename: check the exit code and the
summary on stderr.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from contextlib import closing
from pathlib import Path
from typing import IO, Any

from ..errors import EngineError, InvalidCase
from ..model.catalogue import catalogue
from ..tools.batch import BatchStopped, Formatter, Progress, is_csv, read_items, run_formatted
from ..run.api import embedded_rulesets
from . import danish
from .common import EXIT_ERROR, EXIT_OK, cli_plugins

EXIT_INTERRUPTED = 130


def register(commands: Any) -> None:
    """``rammeaftale batch SPØRGSMÅL --input FIL --output FIL [--workers N]``."""
    p = commands.add_parser("batch", help="besvar et spørgsmål for mange sager (JSON Lines eller CSV)")
    p.add_argument("question", metavar="SPØRGSMÅL", help="spørgsmålet alle rækker stilles")
    p.add_argument("--input", required=True, metavar="FIL", help="JSON Lines (.jsonl) eller CSV (.csv); '-' = stdin")
    p.add_argument("--output", required=True, metavar="FIL", help="JSON Lines eller CSV (.csv); '-' = stdout")
    p.add_argument("--workers", type=danish.whole_number, default=min(2, os.cpu_count() or 1), metavar="N",
                   help="antal processer (standard: min(2, antal kerner))")
    p.set_defaults(handler=cmd_batch)


class Stopped(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: unwind like Ctrl-C, so the temporary file is removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, _frame: Any) -> None:
    # One signal is enough: a second Ctrl-C (or systemd's SIGTERM after it) must not cut the clean-up short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Stopped(signum)


def cmd_batch(args: Any) -> int:
    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _batch(args)
    except EngineError:
        raise
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
        print("batch afbrudt; outputfilen er ikke skrevet", file=sys.stderr)
        return EXIT_INTERRUPTED if signum == signal.SIGINT else 128 + signum
    except BrokenPipeError:
        return EXIT_ERROR
    except BatchStopped as exc:
        left = "outputtet på stdout er ufuldstændigt" if args.output == "-" else "outputfilen er ikke skrevet"
        print(f"batch stoppede: {exc}; {left}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - never a traceback to the user
        print(f"batch stoppede med en intern fejl: {type(exc).__name__}: {exc}; outputfilen er ikke skrevet",
              file=sys.stderr)
        return EXIT_ERROR
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _batch(args: Any) -> int:
    if args.question not in catalogue():
        raise InvalidCase(f"ukendt spørgsmål '{args.question}'; kendte: {', '.join(catalogue())}", path="question")
    paths = [str(p) for p in args.rulesets] if args.rulesets else _default_paths()
    source = sys.stdin.buffer if args.input == "-" else _open_input(args.input)
    progress = Progress(sys.stderr, _size(source), sys.stderr.isatty())
    rows = failed = 0
    try:
        items = read_items(source, is_csv(args.input), args.question)   # a bad CSV header fails here
        with _Output(args.output) as target:
            target.write(Formatter(args.question, is_csv(args.output)).header())
            # closing(): the pool is ended here, before the temporary file is removed, whatever stops the loop.
            with closing(run_formatted(args.question, items, csv_output=is_csv(args.output), paths=paths,
                                       workers=max(1, args.workers), plugins=True)) as lines:
                for bad, text in lines:
                    target.write(text)
                    rows += 1
                    failed += bad
                    progress.update(_position(source), rows, failed)
            progress.update(progress.size, rows, failed, force=True)
    finally:
        progress.done()
        if source is not sys.stdin.buffer:
            source.close()
    print(f"batch {args.question}: {rows} rækker, {rows - failed} besvaret, {failed} fejl → {args.output}",
          file=sys.stderr)
    return EXIT_OK if failed == 0 else EXIT_ERROR


class _Output:
    """The output: stdout, or a temporary file beside the target renamed into place on success."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.temp: str | None = None
        self.stream: IO[str] = sys.stdout

    def __enter__(self) -> IO[str]:
        if self.path == "-":
            return sys.stdout
        target = Path(self.path)
        try:
            fd, self.temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
        except OSError as exc:
            raise InvalidCase(f"kan ikke skrive {self.path}: {exc.strerror}", path="output") from None
        mask = os.umask(0)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)            # as an ordinary new file would be, not mkstemp's 0600
        self.stream = os.fdopen(fd, "w", encoding="utf-8", newline="")
        return self.stream

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if self.temp is None:
            if kind is None:
                sys.stdout.flush()
            return
        try:
            if kind is None:
                self.stream.flush()
                os.fsync(self.stream.fileno())
                self.stream.close()
                os.replace(self.temp, self.path)
                self.temp = None
        except OSError as error:
            raise InvalidCase(f"kan ikke skrive {self.path}: {error.strerror}", path="output") from None
        finally:
            if self.temp is not None:               # failed or interrupted: leave nothing behind
                self.stream.close()
                try:
                    os.unlink(self.temp)
                except OSError:
                    pass


def _default_paths() -> list[str] | None:
    """The folders ``load_engine`` would use: embedded rulesets plus plugin sources (None = embedded only)."""
    extra = cli_plugins().ruleset_sources
    return [str(embedded_rulesets()), *map(str, extra)] if extra else None


def _open_input(path: str) -> IO[bytes]:
    try:   # bytes: each line is decoded strictly (UTF-8, a byte-order mark is dropped) by read_items
        stream = open(path, "rb")
    except OSError as exc:
        raise InvalidCase(f"kan ikke læse {path}: {exc.strerror}", path="input") from None
    if Path(path).is_dir():
        stream.close()
        raise InvalidCase(f"kan ikke læse {path}: det er en mappe", path="input")
    return stream


def _size(stream: IO[bytes]) -> int:
    try:
        return os.fstat(stream.fileno()).st_size
    except (OSError, ValueError, AttributeError):
        return 0


def _position(stream: IO[bytes]) -> int:
    try:
        return stream.tell()
    except (OSError, ValueError):
        return 0
