"""``rammeaftale ny-periode``: copy a ruleset as the draft of the next period."""

from __future__ import annotations

from typing import Any

import datetime as _dt
from pathlib import Path

from ..model.compiler import RULESET_FILE
from ..tools.scaffold import new_period
from . import danish
from .common import EXIT_OK, load_engine, print_json

def register(commands: Any) -> None:
    """``rammeaftale ny-periode FRA NYT_ID --fra ÅÅÅÅ-MM-DD --til ÅÅÅÅ-MM-DD [--mappe DIR]``."""
    p = commands.add_parser("ny-periode", help="kopiér et regelsæt som udkast til næste aftaleperiode")
    p.add_argument("source", metavar="FRA", help="id på regelsættet, der kopieres")
    p.add_argument("new_id", metavar="NYT_ID", help="id og mappenavn for det nye regelsæt")
    p.add_argument("--fra", required=True, type=danish.date, metavar="ÅÅÅÅ-MM-DD", help="den nye periodes første dag")
    p.add_argument("--til", required=True, type=danish.date, metavar="ÅÅÅÅ-MM-DD", help="den nye periodes sidste dag")
    p.add_argument("--mappe", type=Path, metavar="MAPPE", help="hvor mappen oprettes (standard: ved siden af FRA; påkrævet, når FRA er indbygget i en installeret pakke)")
    p.add_argument("--json", action="store_true", help="udskriv som JSON")
    p.set_defaults(handler=cmd_new_period)


def cmd_new_period(args: Any) -> int:
    made = new_period(load_engine(args), args.source, args.new_id, args.fra, args.til, args.mappe)
    if args.json:
        print_json({"folder": str(made.folder), "genverificer": made.to_verify, "notes": made.notes})
        return EXIT_OK
    print(f"Oprettet {made.folder} (status udkast, {args.fra}–{args.til}).")
    print(f"{made.to_verify} regler skal genverificeres mod den nye tekst (se genverificer i {RULESET_FILE}).")
    for note in made.notes:
        print(f"  - {note}")
    return EXIT_OK
