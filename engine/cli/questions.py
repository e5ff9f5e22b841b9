"""``rammeaftale spoergsmaal [SPØRGSMÅL]``: the questions, their inputs and outputs."""

from __future__ import annotations

from typing import Any

from ..model.catalogue import catalogue
from ..tools import questions
from .common import EXIT_OK, print_json


def register(commands: Any) -> None:
    p = commands.add_parser("spoergsmaal", help="vis spørgsmålene med input og output",
                            description="Vis spørgsmålene i kataloget; med et navn: input og output med "
                                        "type og beskrivelse.")
    p.add_argument("question", nargs="?", metavar="SPØRGSMÅL", help="ét spørgsmål (standard: alle)")
    p.add_argument("--json", action="store_true",
                   help="udskriv som JSON, med hvert spørgsmåls input- og output-skema (JSON Schema)")
    p.set_defaults(handler=cmd_questions)


def cmd_questions(args: Any) -> int:
    chosen = [questions.question(args.question)] if args.question else list(catalogue().values())
    if args.json:
        described = [questions.describe(q) for q in chosen]
        print_json(described[0] if args.question else described)
    else:
        print(questions.describe_text(chosen[0]) if args.question else questions.overview_text())
    return EXIT_OK
