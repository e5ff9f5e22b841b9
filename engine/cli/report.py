"""``rammeaftale report``: a printable HTML page of every rule in a ruleset."""

from __future__ import annotations

from typing import Any

from pathlib import Path

from ..tools.report import write_report
from .common import EXIT_OK, load_engine

def register(commands: Any) -> None:
    """``rammeaftale report REGELSÆT --output FIL.html [--kilder MAPPE]``."""
    p = commands.add_parser("report", help="printbar HTML-side med alle regler i et regelsæt")
    p.add_argument("ruleset", metavar="REGELSÆT", help="regelsættets id")
    p.add_argument("--output", required=True, type=Path, metavar="FIL.html", help="HTML-filen, der skrives")
    p.add_argument("--kilder", type=Path, metavar="MAPPE",
                   help="mappe med kildeteksterne (standard: projektets egne i rulesets/kilder/ og kilder/ ved "
                        "siden af regelsættene; eller $RAMMEAFTALE_KILDER)")
    p.set_defaults(handler=cmd_report)


def cmd_report(args: Any) -> int:
    path = write_report(load_engine(args), args.ruleset, args.output, args.kilder)
    print(f"Skrev {path}")
    return EXIT_OK
