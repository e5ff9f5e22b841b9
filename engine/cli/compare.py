"""``rammeaftale compare``: one case under several rulesets, side by side."""

from __future__ import annotations

from typing import Any

from ..tools.compare import render_csv, render_text
from .common import EXIT_ERROR, EXIT_OK, add_reading_option, load_engine, print_json, read_case, readings

def register(commands: Any) -> None:
    """``rammeaftale compare SPØRGSMÅL --case FIL --rulesets a,b,c [--fortolkninger] [--fortolkning P=L] [--json|--csv]``."""
    p = commands.add_parser("compare", help="én sag under flere regelsæt, side om side")
    p.add_argument("question", metavar="SPØRGSMÅL", help="spørgsmålet (se 'rammeaftale spoergsmaal')")
    p.add_argument("--case", required=True, metavar="FIL", help="sagen som JSON ('-' = stdin)")
    p.add_argument("--rulesets", dest="ruleset_ids", metavar="ID,ID,…",
                   help="kommasepareret liste af regelsæt (standard: alle aftaler)")
    p.add_argument("--fortolkninger", dest="all_readings", action="store_true",
                   help="sæt også hver alternativ læsning side om side (én kolonne pr. læsning)")
    add_reading_option(p)
    view = p.add_mutually_exclusive_group()
    view.add_argument("--json", action="store_true", help="udskriv som JSON")
    view.add_argument("--csv", action="store_true", help="udskriv som CSV")
    p.set_defaults(handler=cmd_compare)


def cmd_compare(args: Any) -> int:
    ids = [i.strip() for i in args.ruleset_ids.split(",") if i.strip()] if args.ruleset_ids else None
    comparison = load_engine(args).compare(args.question, read_case(args.case), rulesets=ids,
                                           fortolkninger=readings(args), readings=args.all_readings)
    if args.json:
        print_json(comparison.to_dict())
    elif args.csv:
        print(render_csv(comparison), end="")
    else:
        print(render_text(comparison))
    return EXIT_OK if any("error" not in r for r in comparison.results) else EXIT_ERROR
