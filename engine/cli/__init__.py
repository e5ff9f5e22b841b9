"""The ``rammeaftale`` command line: the engine for people and scripts.

Every command that answers a question has a readable Danish form and a
``--json`` form that is exactly the library's ``to_dict()``; errors in JSON
are ``{"error": {"kind", "message", "path"?}}`` with a non-zero exit code.
This package is the top layer: the only place that prints or exits, and
nothing in the library imports it.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module
from pathlib import Path
from typing import Sequence

from ..errors import EngineError
from .commands import COMMANDS
from . import danish
from .common import EXIT_USAGE, report_error

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_requested(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        try:
            code = args.handler(args)
        except EngineError as exc:
            code = report_error(exc, getattr(args, "json", False))
        sys.stdout.flush()              # inside the try: a closed pipe must not surface at exit
        return code
    except BrokenPipeError:
        return _pipe_closed()


def _pipe_closed() -> int:
    """The reader of stdout closed the pipe: stop quietly (the Python documentation's recipe).

    The exit code is 128 + SIGPIPE, as the shell reports such a command (``| head``); the signal
    module is imported here, not by every call.
    """
    import signal
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())      # so the final flush at exit writes nowhere, silently
    except (OSError, ValueError):
        pass
    return 128 + signal.SIGPIPE


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command`` given, only that feature module is imported.

    A one-off evaluation should not pay for importing multiprocessing, the
    report renderer and the rest; ``--help`` (no command) lists them all.
    """
    danish.install()
    parser = argparse.ArgumentParser(
        prog="rammeaftale", description="Rammeaftalernes regler som data: besvar spørgsmål for en sag, "
        "kontrollér og test regelsæt.", epilog="Hjælp til én kommando: rammeaftale KOMMANDO --help. "
        "Vejledning: docs/brug.md og docs/regelsaet.md.")
    parser.add_argument("--rulesets", action="append", type=Path, metavar="MAPPE",
                        help="mappe med regelsæt (kan gentages; standard: de indbyggede)")
    commands = parser.add_subparsers(title="kommandoer", metavar="KOMMANDO")
    for register in COMMANDS:
        register(commands)
    for name, module in FEATURES.items():
        if command in (None, name):
            import_module(f".{module}", __name__).register(commands)
    return parser


def _requested(argv: Sequence[str]) -> str | None:
    """The command named on the line (None for none or top-level --help: register them all)."""
    if {"-h", "--help"} & set(argv[:1]):
        return None
    names = {c.__name__.lstrip("_").replace("_", "-") for c in COMMANDS} | set(FEATURES)
    return next((a for a in argv if a in names), None)



#: Feature commands, one module each in this package, imported only when named.
FEATURES = {"compare": "compare", "diff": "diff", "ny-periode": "scaffold", "batch": "batch",
            "plugins": "plugins", "report": "report", "serve": "serve", "spoergsmaal": "questions",
            "skabelon": "template", "skema": "schema"}

