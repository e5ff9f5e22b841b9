"""``rammeaftale diff``: what changed between two rulesets, rule by rule."""

from __future__ import annotations

from typing import Any

from ..tools.diff import diff, render_text
from .common import EXIT_OK, load_engine, print_json

def register(commands: Any) -> None:
    """``rammeaftale diff A B [--json]``."""
    p = commands.add_parser("diff", help="hvad er ændret mellem to regelsæt, regel for regel")
    p.add_argument("old", metavar="A", help="det gamle regelsæts id")
    p.add_argument("new", metavar="B", help="det nye regelsæts id")
    p.add_argument("--json", action="store_true", help="udskriv som JSON")
    p.set_defaults(handler=cmd_diff)


def cmd_diff(args: Any) -> int:
    changes = diff(load_engine(args), args.old, args.new)
    if args.json:
        print_json(changes)
    else:
        print(render_text(args.old, args.new, changes))
    return EXIT_OK
