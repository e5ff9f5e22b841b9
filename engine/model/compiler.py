"""Compile a ruleset folder (YAML) into the runtime model, checking everything.

Loading is where mistakes are caught: schema violations, unknown names in
formulas, syntax errors, overlapping table rows under ``unik``, values a
choice field can never take, missing citations, outputs the catalogue does
not know.  All problems in a folder are collected and raised together as
:class:`RulesetErrors`, each with ``file:line``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from collections import Counter
import re
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

from ..load import schemas
from .catalogue import Question, catalogue, normalise_paragraf
from ..formula.dates import Frist, PeriodSyntaxError
from ..errors import InvalidRuleset, RulesetErrors
from ..formula.expr import MAX_LITERAL_EXPONENT, Expression, ExpressionError, Formulas
from ..formula.functions import MONTH_RULE_FUNCTIONS, PERIOD_ARGUMENTS
from .extensions import CompileSession
from .guards import BothGuards, ConditionGuard
from .readings import Point, Reading
from .kinds import kind_of
from .ruleset import Parameter, RuleQuestion, Ruleset
from .steps import (Formula, Meta, PluginStep, Require, RowAction, Step, Table, Unregulated, Variant,
                    Variants, Warning)
from .tables import Cell, Conditions, Row, parse_cell
from ..load.yamlload import Document, load_file

RULESET_FILE = "regelsaet.yaml"
#: Overlapping rows reported per table: the first ones say what to fix; 500,000 lines would not.
MAX_OVERLAPS_REPORTED = 20
EXAMPLES_DIR = "eksempler"
#: A citation: ``KORTNAVN:LINJE[-LINJE] henvisning`` (``ra2021:1879-1884 Bilag 5``).  ``navn`` is the
#: short name of a source under ``kilder``; the old form names the file itself (``FIL.txt:LINJE``),
#: accepted for one release with a warning.
KILDE_PATTERN = re.compile(r"^(?P<navn>[^\s:]+):(?P<fra>\d+)(?:-(?P<til>\d+))?(?:[\s,;·–-]+(?P<ref>.+))?$")
SHORT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_EXAMPLE_KILDE = "ra2021:1879-1884 Bilag 5"
_RESERVED = {"true", "false", "none"}


class Scope:
    """What a step may refer to, and where to report problems."""

    def __init__(self, doc: Document, errors: list[InvalidRuleset], sources: dict[str, str],
                 session: CompileSession, formulas: Formulas, names: dict[str, str],
                 domains: dict[str, frozenset[Any]], types: dict[str, str],
                 warnings: list[str] | None = None, month_rule: bool = True) -> None:
        self.doc, self.errors, self.sources = doc, errors, sources      # short name -> file
        self.warnings = warnings if warnings is not None else []      # old forms, accepted for one release
        self.month_rule = month_rule                                  # False: a library without maanedsregel
        self.session, self.formulas = session, formulas
        self.names, self.domains, self.types = names, domains, types
        self.params: dict[str, Parameter] = {}
        self.points: dict[str, Point] = {}      # points of readings declared in this file (shared by children)
        self.used_params: set[str] = set()      # parameters some formula or column of this file uses

    def fail(self, path: tuple[Any, ...], message: str) -> None:
        self.errors.append(InvalidRuleset(message, location=self.doc.where(path)))

    def warn(self, path: tuple[Any, ...], message: str) -> None:
        self.warnings.append(f"{self.doc.where(path)}: {message}")

    def child(self) -> "Scope":
        child = Scope(self.doc, self.errors, self.sources, self.session, self.formulas, dict(self.names),
                      dict(self.domains), self.types, self.warnings, self.month_rule)
        child.params = self.params
        child.points, child.used_params = self.points, self.used_params
        return child

    def expression(self, source: Any, path: tuple[Any, ...], extra: Iterable[str] = (),
                   meta: Meta | None = None) -> Expression | None:
        """Compile a formula; ``meta`` (the rule using it) inherits its parameters' warnings.

        The names in scope are checked as they are now, so without ``extra``
        the scope's own mapping is handed over as it is: copying it for each of
        the few hundred formulas of a load was a visible part of compiling.
        """
        known = {**self.names, **dict.fromkeys(extra)} if extra else self.names
        try:
            expr = self.formulas.expression(source, known)
        except ExpressionError as exc:
            self.fail(path, str(exc))
            return None
        if not self.month_rule:
            for function in sorted(MONTH_RULE_FUNCTIONS & set(expr.functions)):
                self.fail(path, f"{function} regner med måneder, men biblioteket har ingen maanedsregel; "
                                "skriv maanedsregel og maanedsregel_begrundelse i regelsaet.yaml")
        for name in expr.names:
            if name in self.params:
                self.used_params.add(name)
                if meta is not None:
                    meta.inherited.extend(self.params[name].meta.warnings)
        return expr

    def define(self, name: str, path: tuple[Any, ...], origin: str) -> None:
        if name in self.names:
            self.fail(path, f"navnet '{name}' er allerede brugt ({self.names[name]})")
        elif name in self.formulas.functions or name.lower() in _RESERVED:
            self.fail(path, f"navnet '{name}' er reserveret")
        self.names[name] = origin
        self.domains.pop(name, None)

    def kilde(self, value: Any, path: tuple[Any, ...]) -> str:
        text = str(value or "")
        problem, warning = citation_check(text, self.sources)
        if problem:
            self.fail(path, problem)
        elif warning:
            self.warn(path, warning)
        return text


def citation_check(text: str, sources: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(error, warning) for one ``kilde`` against the ruleset's ``kilder`` (short name -> file)."""
    match = KILDE_PATTERN.match(text)
    if not match:
        return (f"kilde '{text}' skal have formen KORTNAVN:LINJE[-LINJE] henvisning (fx '{_EXAMPLE_KILDE}'; "
                f"kortnavnene står under kilder i {RULESET_FILE}: {_short_names(sources)})"), None
    if match["til"] and int(match["til"]) < int(match["fra"]):
        return f"linjeintervallet i kilde '{text}' går baglæns", None
    name = match["navn"]
    if name in sources and not name.endswith(".txt"):
        return None, None
    if name.endswith(".txt"):
        short = next((n for n, f in sources.items() if f == name and not n.endswith(".txt")), None)
        if name not in sources.values():
            return (f"kildefilen '{name}' står ikke under kilder i {RULESET_FILE}; citér med kortnavnet "
                    f"(kendte: {_short_names(sources)})"), None
        new = text.replace(name, short or "KORTNAVN", 1)
        return None, (f"kilde '{text}' har den gamle form FIL.txt:LINJE; skriv '{new}'"
                      + ("" if short else f" og giv filen et kortnavn under kilder i {RULESET_FILE}")
                      + " (den gamle form afvises fra version 0.4)")
    return (f"kilden '{name}' står ikke under kilder i {RULESET_FILE} (kendte kortnavne: "
            f"{_short_names(sources)}); tilføj den som '{name}: {{fil: FILNAVN.txt, titel: ...}}'"), None


def _short_names(sources: Mapping[str, str]) -> str:
    """The short names a message offers; built only for a message (a load checks hundreds of citations)."""
    return ", ".join(sorted(n for n in sources if not n.endswith(".txt"))) or "ingen"


# --- the folder ---------------------------------------------------------------

def compile_folder(folder: Path, libraries: dict[str, Ruleset] | None = None,
                   display_root: Path | None = None, session: CompileSession | None = None,
                   header: Document | None = None) -> Ruleset:
    """Load, check and compile one ruleset folder; raise RulesetErrors.

    ``session`` carries the plugin extensions in force and the formula memo
    of this load (a fresh one, without plugins, when omitted).  ``header`` is
    the folder's ``regelsaet.yaml`` if the caller has read it already (the
    registry does, to tell libraries from agreements).
    """
    session = session or CompileSession()
    errors: list[InvalidRuleset] = []
    root = display_root or folder.parent

    try:
        shown = str(folder.relative_to(root))
    except ValueError:
        shown = str(folder)

    def name(file: str) -> str:
        """How messages name a file of the folder: relative to ``display_root`` when it is inside."""
        return file if shown == "." else os.path.join(shown, file)

    meta_path = folder / RULESET_FILE
    if not meta_path.exists():
        raise RulesetErrors([InvalidRuleset(f"mappen mangler {RULESET_FILE}", location=f"{shown}:1")])
    doc = header if header is not None else load_file(meta_path, name(RULESET_FILE))
    errors.extend(schemas.check(doc, "ruleset.schema.json"))
    if errors:
        raise RulesetErrors(errors)
    warnings: list[str] = []
    ruleset = _ruleset_header(doc, folder, errors, warnings)
    ruleset.format_warnings = warnings
    scope = _root_scope(doc, errors, ruleset, session)
    ruleset.parameters = _parameters(doc.data.get("parametre", {}), scope, ("parametre",))
    ruleset.points = dict(scope.points)
    digests = [(RULESET_FILE, doc.digest)]
    for file in _question_files(folder):
        try:
            qdoc = load_file(folder / file, name(file))
        except InvalidRuleset as exc:
            errors.append(exc)
            continue
        digests.append((file, qdoc.digest))
        question = _question_file(qdoc, ruleset, errors, session)
        if question is not None:
            for pid, point in question.points.items():
                known = ruleset.points.setdefault(pid, point)
                if known is not point:
                    errors.append(InvalidRuleset(f"fortolkningen '{pid}' er erklæret to steder ({known.where})",
                                                 location=point.where))
            if question.name in ruleset.questions:
                errors.append(InvalidRuleset(f"spørgsmålet '{question.name}' er defineret i to filer",
                                             location=qdoc.where(("spoergsmaal",))))
            ruleset.questions[question.name] = question
    _reuse(doc, ruleset, libraries or {}, errors)
    _unregulated(doc, ruleset, scope, errors, check_complete=not errors)
    if errors:
        raise RulesetErrors(errors)
    ruleset.digest = _digest(digests, {q.owner: libraries[q.owner].digest for q in ruleset.questions.values()
                                       if libraries and q.owner in libraries and q.owner != ruleset.id})
    return ruleset


def _question_files(folder: Path) -> list[str]:
    """Names of the folder's ``*.yaml`` files but the ruleset file, sorted (``glob`` without pathlib's cost)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(n for n in names if n.endswith(".yaml") and n != RULESET_FILE)


def _digest(files: list[tuple[str, str]], libraries: dict[str, str]) -> str:
    """SHA-256 over every rule file's exact bytes (by name) and the digests of the libraries reused.

    Stored with a decision, it names the exact rules that gave it: any edit to
    the folder, or to a reused library, gives another digest.
    """
    text = "\n".join([f"{n} {d}" for n, d in sorted(files)] + [f"bibliotek {n} {d}" for n, d in sorted(libraries.items())])
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


#: Header keys of an agreement that a library (``type: bibliotek``) does not have.
_AGREEMENT_ONLY = ("region", "gyldig_fra", "gyldig_til")


def _ruleset_header(doc: Document, folder: Path, errors: list[InvalidRuleset], warnings: list[str]) -> Ruleset:
    data = doc.data
    kind = data.get("type", "aftale")
    if kind == "bibliotek":
        # A library is never chosen by date: its rules carry their own validity (gyldig_fra/gyldig_til in
        # the question file), and it has no region.  The old header with a formal period still loads.
        old = [k for k in _AGREEMENT_ONLY if k in data]
        if old:
            warnings.append(f"{doc.where((old[0],))}: et bibliotek har hverken region eller aftaleperiode "
                            f"(slet {', '.join(old)}; et spørgsmåls gyldighed skrives i spørgsmålsfilen med "
                            "gyldig_fra/gyldig_til); den gamle form afvises fra version 0.4")
        valid_from, valid_to, region = _dt.date.min, _dt.date.max, ""
    else:
        valid_from, valid_to = _date(data["gyldig_fra"], doc, "gyldig_fra"), _date(data["gyldig_til"], doc, "gyldig_til")
        region = data["region"]
        if valid_from > valid_to:
            errors.append(InvalidRuleset("gyldig_fra ligger efter gyldig_til", location=doc.where(("gyldig_til",))))
    if data["id"] != folder.name:
        errors.append(InvalidRuleset(f"id '{data['id']}' skal være det samme som mappens navn '{folder.name}'",
                                     location=doc.where(("id",))))
    return Ruleset(id=data["id"], region=region, name=data["navn"], kind=kind,
                   valid_from=valid_from, valid_to=valid_to, status=data["status"],
                   month_rule=data.get("maanedsregel", "afkort"), folder=folder,
                   sources=_kilder(doc, warnings), data=data, header=doc)


def _kilder(doc: Document, warnings: list[str]) -> dict[str, dict[str, Any]]:
    """The header's sources by short name (the old list form: by file name, with a warning)."""
    raw = doc.data["kilder"]
    if isinstance(raw, dict):
        return {str(name): dict(spec) for name, spec in raw.items()}
    warnings.append(f"{doc.where(('kilder',))}: kilder er en liste (den gamle form); skriv et kort med et "
                    "kortnavn pr. kilde, fx 'ra2021: {fil: syddanmark-rammeaftale-2021-2022.txt, titel: ...}', "
                    "og citér 'ra2021:LINJE'; den gamle form afvises fra version 0.4")
    return {str(spec["fil"]): dict(spec) for spec in raw}


def _root_scope(doc: Document, errors: list[InvalidRuleset], ruleset: Ruleset, session: CompileSession) -> Scope:
    files = {name: str(spec["fil"]) for name, spec in ruleset.sources.items()}
    return Scope(doc, errors, files, session, session.formulas(ruleset.month_rule), {}, {}, {},
                 ruleset.format_warnings, month_rule="maanedsregel" in ruleset.data)


def _date(value: Any, doc: Document, key: str) -> _dt.date:
    """A date the schema let through as text (``"2025-02-30"`` in quotes) is still checked, at its line."""
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        from ..load.yamlparse import date_problem
        raise InvalidRuleset(f"{key}: {date_problem(str(value))}", location=doc.where((key,))) from None


_DANISH_NUMBER = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})*,\d+$|^[+-]?\d+,\d+$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+$")
_PERCENT = re.compile(r"^([+-]?\d+(?:[.,]\d+)?)\s*%$")


def number_typo(value: Any) -> str | None:
    """A hint when text is a number written the Danish way (``0,10``, ``4,4 %``, ``1.320.000``), else None.

    YAML reads ``0,10`` as the text "0,10", so without this check the mistake
    surfaces only when a formula computes with it — blamed on the case.
    """
    if not isinstance(value, str):
        return None
    text = value.strip().removesuffix("kr.").removesuffix("kr").strip()
    percent = _PERCENT.match(text)
    if percent:
        number = Decimal(percent[1].replace(",", ".")) / 100
        return (f"'{value}' er tekst, ikke et tal; skriv procenter som decimaltal med punktum: "
                f"{percent[1]} % = {_plain_number(number)}")
    if _DANISH_NUMBER.match(text):
        fixed = text.replace(".", "").replace(",", ".")
        return f"'{value}' er tekst, ikke et tal; brug punktum som decimaltegn: {fixed}"
    if _THOUSANDS.match(text):
        return f"'{value}' er tekst, ikke et tal; skriv tallet uden tusindtalspunktum: {text.replace('.', '')}"
    if text != value.strip() and re.fullmatch(r"[+-]?\d+(?:\.\d+)?", text):
        return f"'{value}' er tekst, ikke et tal; skriv kun tallet: {text}"
    return None


#: A parameter's whole number has at most this many digits (the engine's Decimal precision is 34).
MAX_PARAMETER_DIGITS = 30
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parameter_value_problem(value: Any) -> tuple[tuple[Any, ...], str] | None:
    """Why a parameter's ``vaerdi`` (or a part of it) cannot be computed with, as (path inside it, message).

    Checked at load, so a wrong ruleset is ``invalid_ruleset`` at its line and
    not, case after case, an ``invalid_case`` that blames the kommune's data:
    a number written as text (``'0.05'``), a number that is not finite or
    lies outside what formulas may hold (|x| within 1e-100…1e100, as formula
    literals, :data:`~rammeaftale.formula.expr.MAX_LITERAL_EXPONENT`), a whole
    number of more than :data:`MAX_PARAMETER_DIGITS` digits.  Messages never
    quote more than a few digits.
    """
    pending: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, dict):
            pending.extend((where + (k,), v) for k, v in item.items())
        elif isinstance(item, list):
            pending.extend((where + (i,), v) for i, v in enumerate(item))
        elif isinstance(item, str) and _NUMBER_TEXT.fullmatch(item.strip()):
            problem = _number_problem(item.strip())
            mantissa, e, exponent = item.strip().lower().partition("e")
            if problem is None and e and "." not in mantissa:     # YAML reads 1e5 (no point) as text
                problem = (f"'{item}' læses af YAML som tekst, ikke et tal; skriv det med decimalpunktum: "
                           f"{mantissa}.0e{exponent}")
            elif problem is None:
                problem = (f"'{item}' er tekst, ikke et tal; fjern anførselstegnene, så YAML læser det som et tal: "
                           f"{item.strip()}")
            return where, problem
        elif isinstance(item, (int, Decimal, float)) and not isinstance(item, bool):
            problem = _number_problem(item)
            if problem is not None:
                return where, problem
    return None


def _number_problem(number: Any) -> str | None:
    if isinstance(number, int):
        if number.bit_length() > 4 * MAX_PARAMETER_DIGITS or len(str(abs(number))) > MAX_PARAMETER_DIGITS:
            return (f"tallet er for stort: et helt tal må højst have {MAX_PARAMETER_DIGITS} cifre "
                    f"(begynder med {_digits(number)})")
        return None
    text = str(number)
    digits = sum(c.isdigit() for c in text.partition("e")[0].partition("E")[0])
    if digits > 40:
        return (f"tallet har {digits} cifre; højst {MAX_PARAMETER_DIGITS} cifre for et helt tal og 34 "
                f"betydende cifre i alt (begynder med {text[:12]}…)")
    try:
        value = Decimal(text)
    except ArithmeticError:
        return f"'{text[:40]}' kan ikke læses som et tal"
    if not value.is_finite():
        return f"'{text[:40]}' er ikke et endeligt tal"
    if value and not -MAX_LITERAL_EXPONENT <= value.adjusted() <= MAX_LITERAL_EXPONENT:
        return (f"tallet {text[:40]} ligger uden for det, motoren regner med "
                f"(tilladt: 1e-{MAX_LITERAL_EXPONENT} til 1e{MAX_LITERAL_EXPONENT})")
    if value == value.to_integral_value() and value.adjusted() >= MAX_PARAMETER_DIGITS:
        return f"tallet {text[:40]} er for stort: et helt tal må højst have {MAX_PARAMETER_DIGITS} cifre"
    return None


def _digits(number: int) -> str:
    """The first digits of a (possibly huge) whole number, without converting all of it to text."""
    size = number.bit_length() * 30103 // 100000          # about log10(2) digits per bit
    head = abs(number) // (10 ** max(0, size - 12)) if size > 12 else abs(number)
    return f"{'-' if number < 0 else ''}{head}…"


def _plain_number(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text


def _parameters(raw: dict[str, Any], scope: Scope, path: tuple[Any, ...]) -> dict[str, Parameter]:
    out: dict[str, Parameter] = {}
    for name, spec in raw.items():
        here = path + (name,)
        scope.define(name, here, f"parameter i {scope.doc.where(here)}")
        meta = Meta(id=name, kind="parameter", where=scope.doc.where(here),
                    kilde=scope.kilde(spec["kilde"], here + ("kilde",)), title=spec.get("beskrivelse"),
                    text=spec.get("tekst"), note=spec.get("fortolkning"), status=spec.get("status"),
                    source=_source(spec))
        typo = number_typo(spec["vaerdi"])
        problem = None if typo else parameter_value_problem(spec["vaerdi"])
        if typo:
            scope.fail(here + ("vaerdi",), typo)
        elif problem:
            scope.fail(here + ("vaerdi",) + problem[0], f"{name}: {problem[1]}")
        point = None
        if "laesninger" in spec:
            point = _point(spec["laesninger"], "parameter", name, scope, here, spec["vaerdi"],
                           lambda alt, where: _override_value(alt, scope, where, spec["vaerdi"]))
        out[name] = Parameter(name=name, value=spec["vaerdi"], meta=meta, point=point)
    return out


# --- alternative readings (laesninger) ------------------------------------------

#: What an alternative reading may change, by the kind of rule it is declared at.
_OVERRIDES = {"formel": {"formel"}, "regel": {"saet", "beregn"}, "parameter": {"vaerdi"}}
_WHAT = {"formel": "en formel", "regel": "en tabelrække", "parameter": "en parameter"}


def _point(raw: dict[str, Any], kind: str, rule: str, scope: Scope, path: tuple[Any, ...], own: Any,
           build: Callable[[dict[str, Any], tuple[Any, ...]], Any]) -> Point:
    """Compile a ``laesninger`` block: the followed reading (the rule as written) and its alternatives."""
    here = path + ("laesninger",)
    fulgt = raw["fulgt"]
    followed = Reading(str(fulgt["id"]), fulgt["tekst"], scope.kilde(fulgt["kilde"], here + ("fulgt", "kilde")),
                       True, own)
    seen, alternatives = {followed.id}, []
    for i, alt in enumerate(raw["alternativer"]):
        where = here + ("alternativer", i)
        if alt["id"] in seen:
            scope.fail(where + ("id",), f"læsningen '{alt['id']}' står flere gange under laesninger")
        seen.add(alt["id"])
        allowed = _OVERRIDES[kind]
        changes = [k for k in alt if k in _OVERRIDES["formel"] | _OVERRIDES["regel"] | _OVERRIDES["parameter"]]
        wrong = [k for k in changes if k not in allowed]
        if wrong or not changes:
            scope.fail(where, f"en alternativ læsning af {_WHAT[kind]} ændrer med "
                              f"{' eller '.join(sorted(allowed))}" + (f" (ikke {', '.join(wrong)})" if wrong else
                                                                     " (der står ingen ændring)"))
            override = own
        else:
            override = build(alt, where)
        change = "; ".join(f"{k}: {alt[k]}" for k in changes)
        alternatives.append(Reading(str(alt["id"]), alt["tekst"], scope.kilde(alt["kilde"], where + ("kilde",)),
                                    False, override, change))
    point = Point(str(raw["id"]), kind, rule, scope.doc.where(here), raw.get("titel"), followed,
                  tuple(alternatives))
    if point.id in scope.points:
        scope.fail(here + ("id",), f"fortolkningen '{point.id}' er allerede erklæret ({scope.points[point.id].where})")
    else:
        scope.points[point.id] = point
    return point


def _override_value(alt: dict[str, Any], scope: Scope, where: tuple[Any, ...], own: Any) -> Any:
    value = alt["vaerdi"]
    problem = parameter_value_problem(value)
    if problem:
        scope.fail(where + ("vaerdi",) + problem[0], problem[1])
    if type(value) is not type(own) and not (isinstance(value, (int, float)) and isinstance(own, (int, float))):
        scope.fail(where + ("vaerdi",), f"den alternative værdi skal have samme type som parameterens "
                                        f"({type(own).__name__}), fik {type(value).__name__}")
    return value


def _reuse(doc: Document, ruleset: Ruleset, libraries: dict[str, Ruleset], errors: list[InvalidRuleset]) -> None:
    for i, item in enumerate(doc.data.get("genbrug", [])):
        where = doc.where(("genbrug", i))
        library = libraries.get(item["bibliotek"])
        if library is None or library.kind != "bibliotek":
            errors.append(InvalidRuleset(f"ukendt bibliotek '{item['bibliotek']}' "
                                         f"(kendte: {', '.join(sorted(libraries)) or 'ingen'})", location=where))
            continue
        question = library.questions.get(item["spoergsmaal"])
        if question is None:
            errors.append(InvalidRuleset(f"biblioteket '{library.id}' har intet spørgsmål '{item['spoergsmaal']}'",
                                         location=where))
        elif question.name in ruleset.questions:
            errors.append(InvalidRuleset(f"spørgsmålet '{question.name}' er både defineret og genbrugt",
                                         location=where))
        else:
            ruleset.questions[question.name] = question


def _unregulated(doc: Document, ruleset: Ruleset, scope: Scope, errors: list[InvalidRuleset],
                 check_complete: bool) -> None:
    questions = catalogue()
    for name, spec in doc.data.get("ikke_reguleret", {}).items():
        here = ("ikke_reguleret", name)
        if name not in questions:
            scope.fail(here, f"ukendt spørgsmål '{name}' (kendte: {', '.join(questions)})")
        elif name in ruleset.questions:
            scope.fail(here, f"'{name}' er både besvaret og erklæret ikke reguleret")
        if "kilde" in spec:
            scope.kilde(spec["kilde"], here + ("kilde",))
        ruleset.unregulated[name] = dict(spec)
    if ruleset.kind == "aftale" and check_complete:
        missing = [q for q in questions if q not in ruleset.questions and q not in ruleset.unregulated]
        if missing:
            scope.fail(("id",), "hvert spørgsmål i kataloget skal enten besvares eller stå under "
                                f"ikke_reguleret med en begrundelse; mangler: {', '.join(missing)}")


# --- one question file ----------------------------------------------------------

def _question_file(doc: Document, ruleset: Ruleset, errors: list[InvalidRuleset],
                   session: CompileSession) -> RuleQuestion | None:
    problems = schemas.check(doc, "question.schema.json")
    if problems:
        errors.extend(problems)
        return None
    data = doc.data
    spec = catalogue().get(data["spoergsmaal"])
    if spec is None:
        errors.append(InvalidRuleset(f"ukendt spørgsmål '{data['spoergsmaal']}' "
                                     f"(kendte: {', '.join(catalogue())})", location=doc.where(("spoergsmaal",))))
        return None
    scope = _root_scope(doc, errors, ruleset, session)
    for name, param in ruleset.parameters.items():
        scope.names[name] = f"parameter {param.kilde}"
    for name, field in spec.inputs.items():
        scope.define(name, ("spoergsmaal",), f"input til {spec.name}")
        scope.types[name] = field.type
        if field.type == "valg":
            scope.domains[name] = frozenset(field.spec["vaerdier"])
    parameters = dict(ruleset.parameters)
    parameters.update(_parameters(data.get("parametre", {}), scope, ("parametre",)))
    scope.params = parameters
    meta = _meta(data, scope, (), data["spoergsmaal"], "spoergsmaal")
    steps = _steps(data["trin"], scope, ("trin",))
    outputs = _outputs(data["resultat"], spec, scope, meta)
    param_points = tuple(parameters[n].point for n in sorted(scope.used_params) if parameters[n].point is not None)
    points = dict(scope.points)
    for point in param_points:
        points.setdefault(point.id, point)
    return RuleQuestion(name=spec.name, meta=meta, spec=spec, steps=steps, outputs=outputs,
                        parameters=parameters, points=points, param_points=param_points,
                        month_rule=ruleset.month_rule, owner=ruleset.id,
                        valid_from=_date(data["gyldig_fra"], doc, "gyldig_fra") if "gyldig_fra" in data else None,
                        valid_to=_date(data["gyldig_til"], doc, "gyldig_til") if "gyldig_til" in data else None)


def _meta(data: dict[str, Any], scope: Scope, path: tuple[Any, ...], ident: str, kind: str) -> Meta:
    return Meta(id=ident, kind=kind, where=scope.doc.where(path),
                kilde=scope.kilde(data.get("kilde"), path + ("kilde",)), title=data.get("titel"),
                text=data.get("tekst"), note=data.get("fortolkning"), status=data.get("status"),
                source=_source(data))


def _source(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The mapping the secretariat wrote, read-only, for the rule that came from it."""
    return MappingProxyType(data)


def _result_entries(raw: Any, scope: Scope) -> list[tuple[str, Any, tuple[Any, ...]]]:
    """``resultat`` as (output name, formula, path): a bare name is the step (or input) of that name.

    The old form, a mapping ``navn: formel``, is still read, with a warning.
    """
    if isinstance(raw, dict):
        identity = [n for n, f in raw.items() if f == n]
        scope.warn(("resultat",), "resultat er et kort (den gamle form); skriv en liste: navne, hvor output er "
                                  "trinnet med samme navn, og 'navn: formel' kun hvor der skal regnes"
                                  + (f" ({len(identity)} af {len(raw)} er blot navnet selv)" if identity else "")
                                  + "; den gamle form afvises fra version 0.4")
        return [(str(n), f, ("resultat", n)) for n, f in raw.items()]
    out = []
    for i, item in enumerate(raw):
        if isinstance(item, str):
            out.append((item, item, ("resultat", i)))
        else:
            (name, formula), = item.items()
            if formula == name:
                scope.fail(("resultat", i, name), f"'{name}: {name}' siger det samme som blot '{name}'; skriv '- {name}'")
            out.append((str(name), formula, ("resultat", i, name)))
    names = [n for n, _, _ in out]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        scope.fail(("resultat",), f"outputtet '{dup}' står flere gange under resultat")
    return out


def _outputs(raw: Any, spec: Question, scope: Scope, meta: Meta) -> dict[str, Expression]:
    out: dict[str, Expression] = {}
    entries = _result_entries(raw, scope)
    given = {name for name, _, _ in entries}
    for name, source, here in entries:
        if name not in spec.outputs:
            scope.fail(here, f"'{name}' er ikke et output af '{spec.name}' (kendte: {', '.join(spec.outputs)})")
            continue
        expr = scope.expression(source, here, meta=meta)
        if expr is not None:
            out[name] = expr
    for name, field in spec.outputs.items():
        if field.required and name not in given:
            scope.fail(("resultat",), f"det påkrævede output '{name}' mangler under resultat")
    return out


def _steps(raw: list[dict[str, Any]], scope: Scope, path: tuple[Any, ...]) -> list[Step]:
    steps: list[Step] = []
    for i, data in enumerate(raw):
        here = path + (i,)
        step = _step(data, scope, here)
        if step is not None:
            steps.append(step)
    return steps


def _step(data: dict[str, Any], scope: Scope, path: tuple[Any, ...]) -> Step | None:
    kind = kind_of(data)  # the schema guarantees exactly one
    meta = _meta(data, scope, path, data["id"], kind)
    if "laesninger" in data and kind != "formel":
        scope.fail(path + ("laesninger",), "laesninger kan kun stå ved en formel, en tabelrække eller en "
                                              f"parameter (ikke ved et trin af typen '{kind}')")
    return _COMPILE[kind](data, meta, _guard(data, scope, path, meta), scope, path)


def _guard(data: Mapping[str, Any], scope: Scope, path: tuple[Any, ...], meta: Meta) -> Any:
    """A step's condition: ``naar`` (a table row) and/or ``naar_formel`` (a formula); None without either.

    The old form — a formula under ``naar`` — is still read as ``naar_formel``, with a warning.
    """
    row = formula = None
    if "naar" in data and isinstance(data["naar"], str):
        scope.warn(path + ("naar",), f"en formel under naar er den gamle form; skriv 'naar_formel: {data['naar']}' "
                                     "(naar er en tabelrække, fx naar: {omraade: botilbud}); den gamle form "
                                     "afvises fra version 0.4")
        if "naar_formel" in data:
            scope.fail(path + ("naar",), "trinnet har både en formel under naar og naar_formel; skriv én naar_formel")
        formula = scope.expression(data["naar"], path + ("naar",), meta=meta)
    elif "naar" in data:
        row = _condition_row(data["naar"], scope, path + ("naar",))
    if "naar_formel" in data:
        formula = scope.expression(data["naar_formel"], path + ("naar_formel",), meta=meta)
    if row is not None and formula is not None:
        return BothGuards(row, formula)
    return row if row is not None else formula


def _condition_row(raw: Mapping[str, Any], scope: Scope, path: tuple[Any, ...]) -> ConditionGuard | None:
    """``naar: {navn: celle, ...}`` on a step: each name must be known here, each cell as in a table row."""
    if not raw:
        scope.fail(path, "naar er tom; udelad den, eller skriv fx naar: {omraade: botilbud}")
        return None
    cells = {}
    for name, cell in raw.items():
        if name in scope.params:
            scope.used_params.add(name)
        if name not in scope.names:
            scope.fail(path + (name,), f"ukendt navn '{name}' under naar (kendte navne: {', '.join(scope.names)})")
            continue
        cells[str(name)] = _cell(cell, str(name), scope, path + (name,))
    return ConditionGuard(cells, raw) if cells else None


def _formula_step(data: dict[str, Any], meta: Meta, guard: Expression | None, scope: Scope,
                  path: tuple[Any, ...]) -> Formula | None:
    expr = scope.expression(data["formel"], path + ("formel",), meta=meta)
    point = None
    if "laesninger" in data and expr is not None:
        point = _point(data["laesninger"], "formel", data["id"], scope, path, expr,
                       lambda alt, where: scope.expression(alt["formel"], where + ("formel",), meta=meta) or expr)
    scope.define(data["id"], path + ("id",), f"trin i {scope.doc.where(path)}")
    return Formula(meta, guard, expr, point) if expr else None


def _table_step(data: dict[str, Any], meta: Meta, guard: Expression | None, scope: Scope,
                path: tuple[Any, ...]) -> Table:
    return _table(data["tabel"], meta, guard, scope, path + ("tabel",))


def _require_step(data: dict[str, Any], meta: Meta, guard: Expression | None, scope: Scope,
                  path: tuple[Any, ...]) -> Require:
    for j, name in enumerate(data["kraev"]):
        if name not in scope.names:
            scope.fail(path + ("kraev", j), f"ukendt navn '{name}' under kraev")
    return Require(meta, guard, tuple(data["kraev"]))


def _unregulated_step(data: dict[str, Any], meta: Meta, guard: Expression | None, scope: Scope,
                      path: tuple[Any, ...]) -> Unregulated:
    return Unregulated(meta, guard, data["ikke_reguleret"])


def _warning_step(data: dict[str, Any], meta: Meta, guard: Expression | None, scope: Scope,
                  path: tuple[Any, ...]) -> Warning:
    return Warning(meta, guard, data["advarsel"])


def _variants_step(data: dict[str, Any], meta: Meta, guard: Expression | None, scope: Scope,
                   path: tuple[Any, ...]) -> Variants:
    return _variants(data["varianter"], meta, guard, scope, path + ("varianter",))


def _plugin_step(data: dict[str, Any], meta: Meta, guard: Expression | None, scope: Scope,
                 path: tuple[Any, ...]) -> PluginStep | None:
    step_kinds = scope.session.extensions.step_kinds
    params = dict(data["blok"])
    kind = params.pop("type")
    scope.define(data["id"], path + ("id",), f"trin i {scope.doc.where(path)}")
    factory = step_kinds.get(kind)
    if factory is None:
        scope.fail(path + ("blok", "type"), f"ukendt byggeklods '{kind}' (plugins giver: "
                                            f"{', '.join(sorted(step_kinds)) or 'ingen'}; se 'rammeaftale plugins')")
        return None
    try:
        function = factory(params)
    except (ValueError, TypeError, KeyError) as exc:
        scope.fail(path + ("blok",), f"byggeklodsen '{kind}' afviser sine parametre: {exc}")
        return None
    reads = tuple(getattr(function, "reads", ()))
    for name in reads:
        if name not in scope.names:
            scope.fail(path + ("blok",), f"byggeklodsen '{kind}' læser det ukendte navn '{name}'")
    return PluginStep(meta, guard, function, reads)


#: How each step kind of :data:`~.kinds.STEP_KINDS` is compiled (a test checks the keys agree).
_COMPILE: dict[str, Callable[[dict[str, Any], Meta, Expression | None, Scope, tuple[Any, ...]], Step | None]] = {
    "formel": _formula_step, "tabel": _table_step, "kraev": _require_step, "ikke_reguleret": _unregulated_step,
    "advarsel": _warning_step, "varianter": _variants_step, "blok": _plugin_step,
}


# --- tables and variants --------------------------------------------------------

def _conditions(columns: list[str], rows: list[dict[str, Any]], policy: str, scope: Scope,
                path: tuple[Any, ...], row_key: str) -> Conditions:
    for j, column in enumerate(columns):
        if column in scope.params:
            scope.used_params.add(column)
        if column not in scope.names:
            scope.fail(path + ("input", j), f"ukendt kolonne '{column}' (kendte navne: {', '.join(scope.names)})")
    parsed: list[Row] = []
    for r, row in enumerate(rows):
        here = path + (row_key, r, "naar")
        cells = []
        for column in row["naar"]:
            if column not in columns:
                scope.fail(here + (column,), f"'{column}' er ikke en af tabellens kolonner ({', '.join(columns)})")
        for column in columns:
            cells.append(_cell(row["naar"].get(column, "-"), column, scope, here + (column,)))
        parsed.append(Row(str(row["id"]), tuple(cells)))
    ids = [row.id for row in parsed]
    counts = Counter(ids)
    for dup in sorted(i for i, n in counts.items() if n > 1):
        scope.fail(path, f"regel-id '{dup}' står flere gange i samme tabel")
    conditions = Conditions(columns, parsed, policy)
    if policy == "unik":
        for a, b in conditions.overlapping_pairs(most=MAX_OVERLAPS_REPORTED):
            index = ids.index(b.id)
            scope.fail(path + (row_key, index), f"reglerne '{a.id}' og '{b.id}' kan begge gælde for samme sag, "
                                                f"men hitpolitikken er 'unik' (gør betingelserne udelukkende, "
                                                f"eller brug 'foerste')")
    return conditions


def _cell(raw: Any, column: str, scope: Scope, path: tuple[Any, ...]) -> Cell:
    try:
        cell = parse_cell(raw)
    except (ValueError, ArithmeticError) as exc:
        scope.fail(path, f"ugyldig betingelse for '{column}': {exc}")
        return Cell()
    domain = scope.domains.get(column)
    if cell.values is not None and domain is not None:
        for value in cell.values - domain:
            scope.fail(path, f"'{value}' kan aldrig forekomme i '{column}' "
                             f"(mulige værdier: {', '.join(sorted(map(str, domain)))})")
    if cell.roots is not None and scope.types.get(column) != "paragraf":
        scope.fail(path, f"'omfatter' (en betegnelse med underpunkter) bruges kun i paragraf-kolonner, "
                         f"ikke i '{column}'")
    if scope.types.get(column) == "paragraf":
        for value in (cell.values or cell.roots or ()):
            try:
                canonical = normalise_paragraf(str(value))
            except ValueError as exc:
                scope.fail(path, f"'{value}': {exc}")
                continue
            if canonical != value:
                scope.fail(path, f"skriv paragraffen på normalform: '{canonical}' (ikke '{value}')")
    return cell


def _table(data: dict[str, Any], meta: Meta, guard: Expression | None, scope: Scope,
           path: tuple[Any, ...]) -> Table:
    conditions = _conditions(data["input"], data["regler"], data["hitpolitik"], scope, path, "regler")
    outputs = tuple(data["udfald"])
    actions: dict[str, RowAction] = {}
    row_points: dict[str, Point] = {}
    literal_values: dict[str, set[Any]] = {name: set() for name in outputs}
    computed: set[str] = set()
    for r, row in enumerate(data["regler"]):
        here = path + ("regler", r)
        action = RowAction(_meta(row, scope, here, str(row["id"]), "regel"),
                           requires=tuple(row.get("kraever", ())))
        for name in action.requires:
            if name not in scope.names:
                scope.fail(here + ("kraever",), f"ukendt navn '{name}' under kraever")
        for name, value in row.get("saet", {}).items():
            if name not in outputs:
                scope.fail(here + ("saet", name), f"'{name}' står ikke under tabellens udfald ({', '.join(outputs)})")
            action.literals[name] = value
            # Only scalars can form a domain; a list or map value (saet: {proces: {}}) means "no domain".
            literal_values.setdefault(name, set()).add(value if not isinstance(value, (list, dict)) else None)
        # A row's formulas may use its literals (set first) and the formulas above them
        # in the same row — not a later one, which has no value yet when this one runs.
        available = set(action.literals)
        for name, source in row.get("beregn", {}).items():
            if name not in outputs:
                scope.fail(here + ("beregn", name), f"'{name}' står ikke under tabellens udfald ({', '.join(outputs)})")
            if name in action.literals:
                scope.fail(here + ("beregn", name), f"'{name}' er både under saet og beregn")
            expr = scope.expression(source, here + ("beregn", name), extra=sorted(available), meta=action.meta)
            if expr is not None:
                action.formulas[name] = expr
            available.add(name)
            computed.add(name)
        _check_periods(action, scope, here)
        missing = [n for n in outputs if n not in action.literals and n not in action.formulas]
        if missing:
            scope.fail(here, f"reglen '{row['id']}' sætter ikke {', '.join(missing)} (alle udfald skal sættes)")
        actions[str(row["id"])] = action
        if "laesninger" in row:
            def build(alt: dict[str, Any], where: tuple[Any, ...], action: RowAction = action) -> RowAction:
                return _row_reading(alt, action, outputs, scope, where, literal_values, computed)
            row_points[str(row["id"])] = _point(row["laesninger"], "regel", f"{meta.id}/{row['id']}", scope,
                                                here, action, build)
    for name in outputs:
        scope.define(name, path + ("udfald",), f"udfald af tabellen {meta.id}")
        values = literal_values.get(name)
        if values and name not in computed and None not in values and all(isinstance(v, (str, bool)) for v in values):
            scope.domains[name] = frozenset(values)
    scope.define(f"{meta.id}_regel", path, f"regel-id fra tabellen {meta.id}")
    _check_no_match_field(data.get("ingen_match"), scope, path)
    return Table(meta, guard, conditions, outputs, actions, data.get("ingen_match"), row_points)


def _row_reading(alt: dict[str, Any], action: RowAction, outputs: tuple[str, ...], scope: Scope,
                 where: tuple[Any, ...], literal_values: dict[str, set[Any]], computed: set[str]) -> RowAction:
    """A table row as an alternative reading has it: the row's own outcome with ``saet``/``beregn`` over it."""
    variant = RowAction(action.meta, dict(action.literals), dict(action.formulas), action.requires)
    for name, value in alt.get("saet", {}).items():
        if name not in outputs:
            scope.fail(where + ("saet", name), f"'{name}' står ikke under tabellens udfald ({', '.join(outputs)})")
        variant.literals[name] = value
        variant.formulas.pop(name, None)
        literal_values.setdefault(name, set()).add(value if not isinstance(value, (list, dict)) else None)
    available = set(variant.literals) | set(action.formulas)
    for name, source in alt.get("beregn", {}).items():
        if name not in outputs:
            scope.fail(where + ("beregn", name), f"'{name}' står ikke under tabellens udfald ({', '.join(outputs)})")
        if name in alt.get("saet", {}):
            scope.fail(where + ("beregn", name), f"'{name}' er både under saet og beregn")
        expr = scope.expression(source, where + ("beregn", name), extra=sorted(available - {name}), meta=action.meta)
        if expr is not None:
            variant.literals.pop(name, None)
            variant.formulas[name] = expr
            computed.add(name)
    _check_periods(variant, scope, where)
    return variant


def _check_periods(action: RowAction, scope: Scope, path: tuple[Any, ...]) -> None:
    """Every text a row hands to a notice-period argument must be a readable period.

    Catches a mistyped period ("løbende måned + 1 måend") at load instead of
    at the first case that reaches the row.  Which argument of which function
    is a period is declared once, in :data:`PERIOD_ARGUMENTS`.
    """
    for name, expr in action.formulas.items():
        for function, args in expr.calls:
            index = PERIOD_ARGUMENTS.get(function)
            if index is None or index >= len(args) or args[index] is None:
                continue
            how, what = args[index]
            text = what if how == "value" else action.literals.get(what)
            if isinstance(text, str):
                try:
                    Frist(text)
                except PeriodSyntaxError as exc:
                    scope.fail(path + ("beregn", name), str(exc))


def _check_no_match_field(spec: dict[str, Any] | None, scope: Scope, path: tuple[Any, ...]) -> None:
    if spec and spec.get("felt") and spec["felt"] not in scope.names:
        scope.fail(path + ("ingen_match", "felt"), f"ukendt felt '{spec['felt']}'")
    if spec and spec.get("kilde"):
        scope.kilde(spec["kilde"], path + ("ingen_match", "kilde"))


def _names_written(steps: Iterable[Mapping[str, Any]]) -> set[str]:
    """Names a variant's own steps write (step ids, table outcomes), as written — before compiling."""
    out: set[str] = set()
    for step in steps:
        if isinstance(step, Mapping):
            out.add(str(step.get("id")))
            table = step.get("tabel")
            if isinstance(table, Mapping):
                out.update(str(n) for n in table.get("udfald", ()))
    return out


def _variants(data: dict[str, Any], meta: Meta, guard: Expression | None, scope: Scope,
              path: tuple[Any, ...]) -> Variants:
    conditions = _conditions(data["input"], data["liste"], "unik", scope, path, "liste")
    variants: dict[str, Variant] = {}
    defined: list[set[str]] = []
    standard = data.get("standard", {})
    used_defaults: set[str] = set()
    for v, raw in enumerate(data["liste"]):
        here = path + ("liste", v)
        child = scope.child()
        vmeta = _meta(raw, scope, here, raw["id"], "variant")
        own = _names_written(raw["trin"])
        defaults: list[Step] = []
        for name, source in standard.items():
            if name in own:
                continue
            used_defaults.add(name)
            where = path + ("standard", name)
            dmeta = Meta(id=name, kind="formel", where=scope.doc.where(where), kilde=vmeta.kilde,
                         title=f"Standard for varianterne i {meta.id}", text=None, note=None, status=None,
                         source=_source({"id": name, "formel": source, "kilde": vmeta.kilde}))
            expr = child.expression(source, where, meta=dmeta)
            child.define(name, where, f"standard i {scope.doc.where(path)}")
            if expr is not None:
                defaults.append(Formula(dmeta, None, expr, None))
        steps = defaults + _steps(raw["trin"], child, here + ("trin",))
        variants[raw["id"]] = Variant(vmeta, steps)
        defined.append(set(child.names) - set(scope.names))
    for name in standard:
        if name not in used_defaults:
            scope.fail(path + ("standard", name), f"alle varianter sætter selv '{name}', så standarden bruges "
                                                  "aldrig; slet den")
    shared = tuple(sorted(set.intersection(*defined))) if defined else ()
    for name in shared:
        scope.names[name] = f"fælles navn fra varianterne i {meta.id}"
    scope.define(meta.id, path, f"valgt variant i {meta.id}")
    _check_no_match_field(data.get("ingen_match"), scope, path)
    return Variants(meta, guard, conditions, variants, shared, data.get("ingen_match"))
