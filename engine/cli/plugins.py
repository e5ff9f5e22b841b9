"""``rammeaftale plugins``: the loaded plugins and what they add."""

from __future__ import annotations

from typing import Any

from .common import EXIT_OK, cli_plugins, print_json

def register(commands: Any) -> None:
    """``rammeaftale plugins [--json]``."""
    p = commands.add_parser("plugins", help="vis indlæste plugins og hvad de tilføjer")
    p.add_argument("--json", action="store_true", help="udskriv som JSON")
    p.set_defaults(handler=cmd_plugins)


def cmd_plugins(args: Any) -> int:
    report = cli_plugins().report()
    if args.json:
        print_json(report)
        return EXIT_OK
    if not report["plugins"]:
        print("Ingen plugins indlæst.")
    for p in report["plugins"]:
        print(f"{p['name']:<20} {', '.join(p['hooks']) or '–'}  ({p['origin']})")
    for label in ("functions", "formatters", "step_kinds", "ruleset_sources"):
        if report[label]:
            print(f"{_LABELS[label]}: {', '.join(report[label])}")
    for failure in report["failures"]:
        print(f"FEJL i plugin '{failure['name']}': {failure['error']}")
    return EXIT_OK


_LABELS = {"functions": "funktioner", "formatters": "formater", "step_kinds": "byggeklodser",
           "ruleset_sources": "regelsætmapper"}
