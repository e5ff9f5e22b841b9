"""The core commands: evaluate, list, validate, test, demo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

from ..errors import InvalidRuleset, RulesetErrors
from ..run.api import Engine, embedded_rulesets
from ..run.explain import explain
from .common import EXIT_ERROR, EXIT_OK, add_reading_option, load_engine, print_json, read_case, readings


def _evaluate(commands: Any) -> None:
    p = commands.add_parser("evaluate", help="besvar et spørgsmål for en sag")
    p.add_argument("question", metavar="SPØRGSMÅL", help="spørgsmålet (se 'rammeaftale spoergsmaal')")
    p.add_argument("--case", required=True, metavar="FIL", help="sagen som JSON ('-' = standard-input); "
                   "en skabelon: rammeaftale skabelon SPØRGSMÅL")
    p.add_argument("--ruleset", metavar="ID", help="regelsættets id, fx syddanmark-2021 (se 'rammeaftale list')")
    p.add_argument("--region", help="regionen; regelsættet vælges efter beslutningsdatoen")
    p.add_argument("--date", metavar="ÅÅÅÅ-MM-DD", help="beslutningsdatoen (standard: sagens dato)")
    p.add_argument("--json", action="store_true", help="udskriv præcis resultatets to_dict()")
    p.add_argument("--format", metavar="NAVN", help="et output-format fra et plugin (fx html); se 'plugins'")
    add_reading_option(p)
    p.set_defaults(handler=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    case = read_case(args.case)
    engine = load_engine(args, only={args.ruleset} if args.ruleset else None)
    result = engine.evaluate(args.question, case, ruleset=args.ruleset, region=args.region, dato=args.date,
                             fortolkninger=readings(args))
    if args.format:
        assert engine.plugins is not None   # load_engine always gives the CLI's plugins
        print(engine.plugins.format_result(args.format, result.to_dict()), end="")
    elif args.json:
        print_json(result.to_dict())
    else:
        print(explain(result))
    return EXIT_OK


def _list(commands: Any) -> None:
    p = commands.add_parser("list", help="vis regelsæt, perioder og status")
    p.add_argument("--json", action="store_true", help="udskriv listen som JSON")
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
    p = commands.add_parser("validate", help="kontrollér regelsæt (alle fejl med fil:linje)",
                            description="Kontrollér regelsæt: hver fejl vises med fil:linje og et forslag til rettelse.")
    p.add_argument("paths", nargs="*", type=Path, metavar="STI",
                   help="regelsætmappe(r) eller mappe(r) med regelsæt (standard: de indbyggede)")
    p.add_argument("--kilder", type=Path, metavar="MAPPE",
                   help="mappen med aftaleteksterne, som kilde-henvisningerne kontrolleres mod "
                        "(standard: kilder/ ved siden af regelsættene og projektets egne tekster i "
                        "rulesets/kilder/; eller $RAMMEAFTALE_KILDER)")
    p.add_argument("--json", action="store_true", help="udskriv resultatet som JSON")
    p.set_defaults(handler=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    from ..tools import check
    paths = args.paths or args.rulesets or [embedded_rulesets()]
    errors = check.path_problems(paths)
    engine = None
    if not errors:
        try:
            engine = Engine.from_path(*paths)
        except RulesetErrors as exc:
            errors = list(exc.errors)
    sources = args.kilder if args.kilder is not None else check.default_sources()
    if sources is not None and not sources.is_dir():
        errors.append(InvalidRuleset(f"mappen med kildetekster {sources} findes ikke", location=f"{sources}:1"))
    if engine is not None:
        errors += check.example_problems(engine)
        if args.paths:
            errors += check.neighbour_overlaps(engine, args.paths, args.rulesets or [embedded_rulesets()])
        if sources is None or sources.is_dir():
            errors += check.citation_problems(engine, sources)
    if errors:
        if args.json:
            print_json({"ok": False, "errors": [e.to_dict() | {"location": e.location} for e in errors]})
        else:
            for error in errors:
                print(f"{error.location}: {error.message}", file=sys.stderr)
            print(f"{len(errors)} fejl.", file=sys.stderr)
        return EXIT_ERROR
    assert engine is not None
    ids = sorted(r.id for r in engine.rulesets())
    from ..tools.scaffold import validation_warnings
    # unverified rules of a new period, prose with a changed parameter's old value: warn, never fail
    known = [p.parent for p in args.paths if p.is_dir()] + list(args.rulesets or [embedded_rulesets()])
    warnings = validation_warnings(engine, known)
    try:
        missing = check.missing_examples(engine)
    except RulesetErrors:
        missing = []                          # an example file that does not read: 'test' reports it
    warnings += [f"{r.id}: spørgsmålet '{q}' har intet eksempel i {r.id}/eksempler/; "
                 "'rammeaftale test' fejler, indtil der er et" for r, q in missing]
    from ..tools.sources import embedded_sources
    note = (f"kilde-henvisningerne er kontrolleret mod {sources}" if sources is not None else
            f"kilde-henvisningerne er kontrolleret mod projektets egne kildetekster ({embedded_sources()}"
            " og kilder/ ved siden af regelsættene)")
    if args.json:
        print_json({"ok": True, "rulesets": ids, "kilder": str(sources or embedded_sources())}
                   | ({"warnings": warnings} if warnings else {}))
    else:
        for warning in warnings:
            print(f"advarsel: {warning}", file=sys.stderr)
        print(f"OK: {len(ids)} regelsæt uden fejl ({', '.join(ids)})."
              + (f" {len(warnings)} advarsler." if warnings else ""))
        print(f"Bemærk: {note}.")
    return EXIT_OK


def _test(commands: Any) -> None:
    p = commands.add_parser("test", help="kør regelsættenes egne eksempler",
                            description="Kør regelsættenes egne eksempler (eksempler/*.yaml). Et spørgsmål, "
                                        "som et regelsæt besvarer uden et eksempel, tæller som en fejl.")
    p.add_argument("--ruleset", metavar="ID", help="kun dette regelsæt")
    p.add_argument("-v", "--verbose", action="store_true", help="vis også de eksempler, der består")
    p.set_defaults(handler=cmd_test)


def cmd_test(args: argparse.Namespace) -> int:
    engine = load_engine(args)
    from ..tools import check, examples
    if args.ruleset:
        engine.ruleset(args.ruleset)          # an unknown id is an error (no_ruleset), not "0 passed"
    outcomes = [examples.run(engine, ex) for ex in examples.discover(engine)
                if not args.ruleset or ex.ruleset == args.ruleset]
    failed = [o for o in outcomes if not o.passed]
    for outcome in outcomes:
        if args.verbose or not outcome.passed:
            mark = "ok  " if outcome.passed else "FEJL"
            print(f"{mark} {outcome.example.id}  ({outcome.example.where})")
            for problem in outcome.problems:
                print(f"       {problem}")
    missing = check.missing_examples(engine, args.ruleset)
    for ruleset, question in missing:
        print(f"FEJL {ruleset.id}::{question}  ({ruleset.id}/eksempler/)")
        print(f"       regelsættet besvarer '{question}', men har intet eksempel på det; "
              f"skriv et i {ruleset.id}/eksempler/ (vis en skabelon med: rammeaftale skabelon {question})")
    print(f"{len(outcomes) - len(failed)} passed, {len(failed) + len(missing)} failed")
    return EXIT_OK if not failed and not missing else EXIT_ERROR


def _demo(commands: Any) -> None:
    p = commands.add_parser("demo", help="evaluér en rigtig sag pr. spørgsmål og vis forklaringen",
                            description="Evaluér en rigtig sag pr. spørgsmål og vis forklaringen.")
    p.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from ..tools.demo import run_demo
    return run_demo(load_engine(args))


COMMANDS: list[Callable[[Any], None]] = [_evaluate, _list, _validate, _test, _demo]
