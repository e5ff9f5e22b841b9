"""``rammeaftale batch``: one question for many cases (JSON Lines or CSV)."""

from __future__ import annotations

from typing import Any

import os
import sys
from pathlib import Path
from typing import IO

from ..errors import InvalidCase
from ..model.catalogue import catalogue
from ..tools.batch import Formatter, Progress, is_csv, read_items, run_formatted
from .common import EXIT_ERROR, EXIT_OK, cli_plugins

def register(commands: Any) -> None:
    """``rammeaftale batch SPØRGSMÅL --input FIL --output FIL [--workers N]``."""
    p = commands.add_parser("batch", help="besvar et spørgsmål for mange sager (JSON Lines eller CSV)")
    p.add_argument("question", metavar="SPØRGSMÅL")
    p.add_argument("--input", required=True, metavar="FIL", help="JSON Lines (.jsonl) eller CSV (.csv); '-' = stdin")
    p.add_argument("--output", required=True, metavar="FIL", help="JSON Lines eller CSV (.csv); '-' = stdout")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), metavar="N",
                   help="antal processer (standard: min(2, antal kerner))")
    p.set_defaults(handler=cmd_batch)


def cmd_batch(args: Any) -> int:
    if args.question not in catalogue():
        raise InvalidCase(f"ukendt spørgsmål '{args.question}'; kendte: {', '.join(catalogue())}", path="question")
    paths = [str(p) for p in args.rulesets] if args.rulesets else _default_paths()
    source = sys.stdin if args.input == "-" else _open_input(args.input)
    target = sys.stdout if args.output == "-" else _open_output(args.output)
    size = 0 if args.input == "-" else Path(args.input).stat().st_size
    progress = Progress(sys.stderr, size, sys.stderr.isatty())
    rows = failed = 0
    try:
        target.write(Formatter(args.question, is_csv(args.output)).header())
        items = read_items(source, is_csv(args.input), args.question)
        for bad, text in run_formatted(args.question, items, csv_output=is_csv(args.output), paths=paths,
                                       workers=max(1, args.workers)):
            target.write(text)
            rows += 1
            failed += bad
            progress.update(_position(source), rows, failed)
        progress.update(size, rows, failed, force=True)
    finally:
        progress.done()
        for stream in (source, target):
            if stream not in (sys.stdin, sys.stdout):
                stream.close()
    print(f"batch {args.question}: {rows} rækker, {rows - failed} besvaret, {failed} fejl → {args.output}",
          file=sys.stderr)
    return EXIT_OK if failed == 0 else EXIT_ERROR


def _default_paths() -> list[str] | None:
    """The folders ``load_engine`` would use: embedded rulesets plus plugin sources (None = embedded only)."""
    from ..run.api import embedded_rulesets
    extra = cli_plugins().ruleset_sources
    return [str(embedded_rulesets()), *map(str, extra)] if extra else None


def _open_input(path: str) -> IO[str]:
    try:   # utf-8-sig: CSV files saved by Excel start with a byte-order mark
        return open(path, encoding="utf-8-sig", errors="replace", newline="")
    except OSError as exc:
        raise InvalidCase(f"kan ikke læse {path}: {exc.strerror}", path="input") from None


def _open_output(path: str) -> IO[str]:
    try:
        return open(path, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise InvalidCase(f"kan ikke skrive {path}: {exc.strerror}", path="output") from None


def _position(stream: IO[str]) -> int:
    try:
        return stream.buffer.tell() if hasattr(stream, "buffer") else 0
    except (OSError, ValueError):
        return 0
