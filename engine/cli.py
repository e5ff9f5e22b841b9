"""The ``rammeaftale`` command line: the engine for people and scripts.

Every command that answers a question has a readable Danish form and a
``--json`` form that is exactly the library's ``to_dict()``; errors in JSON
are ``{"error": {"kind", "message", "path"?}}`` with a non-zero exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import import_module
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Collection, Sequence

from .api import Engine, embedded_rulesets
from .errors import EngineError, InvalidCase, RulesetErrors
from .explain import explain, explain_error

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_requested(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.handler(args)
    except EngineError as exc:
        return report_error(exc, getattr(args, "json", False))


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command`` given, only that feature module is imported.

    A one-off evaluation should not pay for importing multiprocessing, the
    report renderer and the rest; ``--help`` (no command) lists them all.
    """
    parser = argparse.ArgumentParser(prog="rammeaftale", description="Rammeaftalernes regler som data.")
    parser.add_argument("--rulesets", action="append", type=Path, metavar="MAPPE",
                        help="mappe med regelsæt (kan gentages; standard: de indbyggede)")
    commands = parser.add_subparsers(title="kommandoer", metavar="KOMMANDO")
    for register in COMMANDS:
        register(commands)
    for name, module in FEATURES.items():
        if command in (None, name):
            import_module(f".{module}", __package__).register(commands)
    return parser


def _requested(argv: Sequence[str]) -> str | None:
    """The command named on the line (None for none or top-level --help: register them all)."""
    if {"-h", "--help"} & set(argv[:1]):
        return None
    names = {c.__name__.lstrip("_").replace("_", "-") for c in COMMANDS} | set(FEATURES)
    return next((a for a in argv if a in names), None)


def load_engine(args: argparse.Namespace, only: Collection[str] | None = None) -> Engine:
    """The rulesets of ``--rulesets``, or the embedded ones plus plugin sources (``only``: see Engine.from_path)."""
    if args.rulesets:
        return Engine.from_path(*args.rulesets, only=only)
    if only and all((embedded_rulesets() / name).is_dir() for name in only):
        # Shipped rulesets need no plugin ruleset source; skipping discovery saves
        # pluggy and every plugin module (a plugin function is still found when a
        # formula calls it, see engine.functions).
        return Engine.from_path(embedded_rulesets(), only=only)
    from . import plugins as _plugins
    extra = _plugins.plugins().ruleset_sources()   # rulesets kept elsewhere, offered by plugins
    return Engine.from_path(embedded_rulesets(), *extra, only=only)


def read_case(path: str) -> Any:
    """A case from a JSON file ('-' = stdin), decimals kept exact."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
    except OSError as exc:
        raise InvalidCase(f"kan ikke læse sagen {path}: {exc.strerror}", path="case") from None
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InvalidCase(f"sagen {path} er ikke gyldig JSON: {exc.msg} (linje {exc.lineno})", path="case") from None
    except (ValueError, RecursionError) as exc:  # a number over 4300 digits; nesting deeper than the stack
        raise InvalidCase(f"sagen {path} kan ikke læses som JSON: "
                          f"{'for dyb indlejring' if isinstance(exc, RecursionError) else exc}", path="case") from None


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def report_error(exc: EngineError, as_json: bool) -> int:
    if as_json:
        print_json({"error": exc.to_dict()})
    else:
        print(explain_error(exc), file=sys.stderr)
    return EXIT_ERROR


# --- commands ---------------------------------------------------------------------

def _evaluate(commands: Any) -> None:
    p = commands.add_parser("evaluate", help="besvar et spørgsmål for en sag")
    p.add_argument("question", metavar="SPØRGSMÅL")
    p.add_argument("--case", required=True, metavar="FIL", help="sagen som JSON ('-' = stdin)")
    p.add_argument("--ruleset", metavar="ID")
    p.add_argument("--region")
    p.add_argument("--date", metavar="ÅÅÅÅ-MM-DD", help="beslutningsdatoen (standard: sagens dato)")
    p.add_argument("--json", action="store_true", help="udskriv præcis resultatets to_dict()")
    p.add_argument("--format", metavar="NAVN", help="et output-format fra et plugin (fx html); se 'plugins'")
    p.set_defaults(handler=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    case = read_case(args.case)
    engine = load_engine(args, only={args.ruleset} if args.ruleset else None)
    result = engine.evaluate(args.question, case, ruleset=args.ruleset, region=args.region, dato=args.date)
    if args.format:
        from .plugins import format_result
        print(format_result(args.format, result.to_dict()), end="")
    elif args.json:
        print_json(result.to_dict())
    else:
        print(explain(result))
    return EXIT_OK


def _list(commands: Any) -> None:
    p = commands.add_parser("list", help="vis regelsæt, perioder og status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    rulesets = sorted(load_engine(args).rulesets(), key=lambda r: (r.kind, r.region, r.valid_from))
    if args.json:
        print_json([r.summary() for r in rulesets])
        return EXIT_OK
    for r in rulesets:
        kind = "" if r.kind == "aftale" else f" [{r.kind}]"
        print(f"{r.id:<20} {r.region:<14} {r.valid_from} – {r.valid_to}  {r.status:<9}{kind}  {r.name}")
        print(f"{'':<20} besvarer: {', '.join(sorted(r.questions)) or '–'}")
    return EXIT_OK


def _validate(commands: Any) -> None:
    p = commands.add_parser("validate", help="kontrollér regelsæt (alle fejl med fil:linje)")
    p.add_argument("paths", nargs="*", type=Path, metavar="STI")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    paths = args.paths or args.rulesets or [embedded_rulesets()]
    try:
        engine = Engine.from_path(*paths)
    except RulesetErrors as exc:
        if args.json:
            print_json({"ok": False, "errors": [e.to_dict() | {"location": e.location} for e in exc.errors]})
        else:
            for error in exc.errors:
                print(f"{error.location}: {error.message}", file=sys.stderr)
            print(f"{len(exc.errors)} fejl.", file=sys.stderr)
        return EXIT_ERROR
    ids = sorted(r.id for r in engine.rulesets())
    from .scaffold import validation_warnings
    warnings = validation_warnings(engine)  # unverified rules of a new period: warn, never fail
    if args.json:
        print_json({"ok": True, "rulesets": ids} | ({"warnings": warnings} if warnings else {}))
    else:
        for warning in warnings:
            print(f"advarsel: {warning}", file=sys.stderr)
        print(f"OK: {len(ids)} regelsæt uden fejl ({', '.join(ids)})."
              + (f" {len(warnings)} advarsler." if warnings else ""))
    return EXIT_OK


def _test(commands: Any) -> None:
    p = commands.add_parser("test", help="kør regelsættenes egne eksempler")
    p.add_argument("--ruleset", metavar="ID", help="kun dette regelsæt")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(handler=cmd_test)


def cmd_test(args: argparse.Namespace) -> int:
    engine = load_engine(args)
    from . import examples
    outcomes = [examples.run(engine, ex) for ex in examples.discover(engine)
                if not args.ruleset or ex.ruleset == args.ruleset]
    failed = [o for o in outcomes if not o.passed]
    for outcome in outcomes:
        if args.verbose or not outcome.passed:
            mark = "ok  " if outcome.passed else "FEJL"
            print(f"{mark} {outcome.example.id}  ({outcome.example.where})")
            for problem in outcome.problems:
                print(f"       {problem}")
    print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    return EXIT_OK if not failed else EXIT_ERROR


def _demo(commands: Any) -> None:
    p = commands.add_parser("demo", help="evaluér en rigtig sag pr. spørgsmål og vis forklaringen")
    p.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo
    return run_demo(load_engine(args))


COMMANDS: list[Callable[[Any], None]] = [_evaluate, _list, _validate, _test, _demo]

#: Feature commands live next to their feature; each module has a small ``register``.
FEATURES = {"compare": "compare", "diff": "diff", "ny-periode": "scaffold", "batch": "batch",
            "plugins": "plugins", "report": "report"}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
