"""``rammeaftale skabelon SPØRGSMÅL``: a case to fill in, as JSON on standard output."""

from __future__ import annotations

import sys
from typing import Any

from ..tools import questions
from .common import EXIT_OK, print_json


def register(commands: Any) -> None:
    p = commands.add_parser("skabelon", help="udskriv en sag at udfylde for et spørgsmål",
                            description="Udskriv en sag (JSON) at udfylde, fx: rammeaftale skabelon opsigelse "
                                        "> sag.json. Forklaringen skrives på standard-fejl.")
    p.add_argument("question", metavar="SPØRGSMÅL", help="spørgsmålet (se 'rammeaftale spoergsmaal')")
    p.add_argument("--alle", action="store_true", help="tag også de valgfri felter med")
    p.set_defaults(handler=cmd_template)


def cmd_template(args: Any) -> int:
    q = questions.question(args.question)
    for note in questions.template_notes(q, args.alle):
        print(note, file=sys.stderr)
    print_json(questions.template(q, args.alle))
    return EXIT_OK
