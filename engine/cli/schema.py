"""``rammeaftale skema --mappe MAPPE``: publish the ruleset JSON Schemas for an editor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..tools.editor import SCHEMA_FOLDER, publish
from .common import EXIT_OK


def register(commands: Any) -> None:
    p = commands.add_parser("skema", help="skriv regelsættenes JSON-skemaer til editoren",
                            description="Skriv regelsættenes JSON-skemaer (selvstændige kopier), så en editor "
                                        "med YAML-udvidelsen kontrollerer filerne, mens der skrives. "
                                        "Se docs/regelsaet.md, afsnittet om editoren.")
    p.add_argument("--mappe", type=Path, required=True, metavar="MAPPE",
                   help=f"mappen med regelsætmapperne; skemaerne skrives i MAPPE/{SCHEMA_FOLDER}/")
    p.set_defaults(handler=cmd_schema)


def cmd_schema(args: Any) -> int:
    for path in publish(args.mappe / SCHEMA_FOLDER):
        print(f"Skrevet {path}")
    print(f"Første linje i en spørgsmålsfil: # yaml-language-server: $schema=../{SCHEMA_FOLDER}/question.schema.json")
    return EXIT_OK
