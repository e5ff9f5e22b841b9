"""What every command shares: exit codes, the engine to use, case files, JSON output, errors.

The CLI is the only layer that prints or exits; the library below it raises
:class:`~engine.errors.EngineError` and returns values.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path
from typing import Any, Collection

from ..errors import EngineError, InvalidCase
from ..load.casefile import decode_case_bytes, parse_case_json, read_case_bytes
from ..run.api import Engine, embedded_rulesets
from ..run.plugins import Plugins, discover
from ..run.explain import explain_error

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def load_engine(args: argparse.Namespace, only: Collection[str] | None = None) -> Engine:
    """The engine a command uses: the CLI's plugins, and ``--rulesets`` or the embedded rulesets
    plus the folders plugins offer (``only``: see :meth:`Engine.from_path`).

    Loading makes tens of thousands of objects that live as long as the
    command, and the cyclic garbage collector would go through all of them
    again and again while they are made (about a tenth of a one-off
    ``evaluate``).  So it is paused while loading, and what exists afterwards
    is frozen (``gc.freeze``: left out of every later collection) — this
    process is the command, and its engine is never garbage.
    """
    if args.rulesets:
        from ..errors import RulesetErrors
        from ..tools.check import path_problems
        problems = path_problems(args.rulesets)
        if problems:
            raise RulesetErrors(problems)       # a missing --rulesets folder is an error, not "no rulesets"
    collecting = gc.isenabled()
    gc.disable()
    try:
        found = cli_plugins()
        paths = args.rulesets or [embedded_rulesets(), *found.ruleset_sources]
        engine = Engine.from_path(*paths, only=only, plugins=found)
    finally:
        if collecting:
            gc.enable()
    gc.freeze()
    return engine


def cli_plugins() -> Plugins:
    """The plugins of this command (entry points, ``plugins/``, ``$RAMMEAFTALE_PLUGINS``)."""
    return discover()


def read_case(path: str) -> Any:
    """A case from a JSON file ('-' = stdin), read strictly (see :mod:`rammeaftale.load.casefile`)."""
    name = "standard-input" if path == "-" else path
    try:
        if path == "-":
            raw = read_case_bytes(sys.stdin.buffer, f"sagen {name}")
        else:
            with Path(path).open("rb") as handle:
                raw = read_case_bytes(handle, f"sagen {name}")
    except OSError as exc:
        raise InvalidCase(f"kan ikke læse sagen {path}: {exc.strerror}", path="case") from None
    return parse_case_json(decode_case_bytes(raw, name), f"sagen {name}")


def add_reading_option(parser: argparse.ArgumentParser) -> None:
    """``--fortolkning PUNKT=LÆSNING`` (gentages): svar efter en anden læsning end regelsættets."""
    parser.add_argument("--fortolkning", dest="fortolkning", action="append", default=[], metavar="PUNKT=LÆSNING",
                        help="besvar efter denne læsning af en uklar tekst i stedet for den, regelsættet følger "
                             "(kan gentages; se 'rammeaftale report' for regelsættenes læsninger)")


def readings(args: argparse.Namespace) -> dict[str, str] | None:
    """The ``--fortolkning`` options as {punkt: læsning} (None when none were given)."""
    out: dict[str, str] = {}
    for item in getattr(args, "fortolkning", None) or []:
        point, sep, reading = item.partition("=")
        if not sep or not point.strip() or not reading.strip():
            raise InvalidCase(f"--fortolkning skal have formen PUNKT=LÆSNING (fik '{item}')", path="fortolkning")
        out[point.strip()] = reading.strip()
    return out or None


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def report_error(exc: EngineError, as_json: bool) -> int:
    if as_json:
        print_json({"error": exc.to_dict()})
    else:
        print(explain_error(exc), file=sys.stderr)
    return EXIT_ERROR
