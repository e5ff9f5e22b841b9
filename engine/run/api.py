"""The engine's public face: load rulesets, resolve one, evaluate a question.

    from rammeaftale import Engine
    eng = Engine.default()
    res = eng.evaluate("opsigelse", case, ruleset="syddanmark-2021")
    res = eng.evaluate("opsigelse", case, region="syddanmark", dato="2021-03-01")

An :class:`Engine` owns everything it uses — its compiled rulesets, its
plugins (if any were given) and its limits — and never changes after it is
built: every evaluation keeps its own state in a per-call context, so one
engine may serve any number of threads at once.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import importlib.util
from time import monotonic
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Collection, Mapping, Sequence

from ..model.catalogue import catalogue, catalogue_version, parse_date, show_value
from ..model.trace import Context, ResultWarning
from ..errors import EngineError, InvalidCase, InvalidRuleset, NotRegulated
from ..formula.money import CONTEXT
from ..model.extensions import NO_EXTENSIONS, CompileSession, Extensions
from .registry import Registry, fold_region
from .result import Alternative, Result, typed_output
from ..model.readings import Point
from ..model.ruleset import RuleQuestion, Ruleset
from ..model.values import to_text

if TYPE_CHECKING:  # pragma: no cover
    from .compare import Comparison
    from .plugins import Plugins

#: The case field whose date picks the ruleset when no ``dato`` is given
#: ("beslutningsåret": the date of the decision the question is about).
DECISION_DATE_FIELD = {
    "opsigelse": "opsigelsesdato", "lukning": "beslutningsdato", "kapacitet": "ikrafttraedelse",
    "overtagelse": "dato", "takstaendring": "vedtagelsesdato", "afregning": "fakturadato",
}


def embedded_rulesets() -> Path:
    """Folder of the rulesets that ship with the package.

    Installed, they are the ``rammeaftale_rulesets`` package; in a source
    checkout that is not installed, the ``rulesets/`` folder beside ``engine/``.
    """
    spec = importlib.util.find_spec("rammeaftale_rulesets")   # not importlib.resources: 10 ms of imports
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[2] / "rulesets"


@dataclass(frozen=True)
class Limits:
    """Bounds on one evaluation, on top of the fixed size bounds of every computed value.

    ``seconds``: wall time of one evaluation, checked before every step; the
    evaluation then ends with ``invalid_case`` naming the rule it reached.
    """

    seconds: float = 2.0

    def __post_init__(self) -> None:
        if not (isinstance(self.seconds, (int, float)) and 0 < self.seconds <= 3600):
            raise ValueError("Limits.seconds skal være mellem 0 og 3600 sekunder")


DEFAULT_LIMITS = Limits()


class Engine:
    """Compiled rulesets plus the evaluation entry points; immutable after construction."""

    def __init__(self, registry: Registry, *, plugins: "Plugins | None" = None,
                 limits: Limits = DEFAULT_LIMITS) -> None:
        self.registry = registry
        self.plugins = plugins
        self.limits = limits

    @property
    def extensions(self) -> Extensions:
        """What this engine's plugins add (functions, building blocks, output formats)."""
        return self.plugins.extensions() if self.plugins is not None else NO_EXTENSIONS

    @classmethod
    def default(cls, *, plugins: "Plugins | None" = None, limits: Limits = DEFAULT_LIMITS) -> "Engine":
        """The embedded rulesets (``rulesets/`` of the distribution)."""
        return cls.from_path(embedded_rulesets(), plugins=plugins, limits=limits)

    @classmethod
    def from_path(cls, *paths: Path | str, only: Collection[str] | None = None,
                  plugins: "Plugins | None" = None, limits: Limits = DEFAULT_LIMITS) -> "Engine":
        """Rulesets from one or more folders (a ruleset folder or a folder of them).

        ``only``: compile just these ruleset ids (and the shared libraries),
        for a caller that knows which ruleset it needs.  ``plugins``: the
        plugins this engine uses (:func:`rammeaftale.run.plugins.discover`);
        none by default — an engine never picks up plugins it was not given.
        """
        session = CompileSession(plugins.extensions() if plugins is not None else NO_EXTENSIONS)
        return cls(Registry.load((Path(p) for p in paths), only=only, session=session),
                   plugins=plugins, limits=limits)

    # -- resolving -----------------------------------------------------------

    def ruleset(self, ruleset: str | None = None, *, region: str | None = None,
                dato: str | _dt.date | None = None) -> Ruleset:
        """The ruleset by id, or the one covering ``dato`` in ``region``."""
        for name, value in (("ruleset", ruleset), ("region", region)):
            if value is not None and not isinstance(value, str):
                raise InvalidCase(f"'{name}' skal være tekst (fik {type(value).__name__})", path=name)
        if ruleset:
            chosen = self.registry.get(ruleset)
            if region and fold_region(region) != fold_region(chosen.region):
                # Two routings that disagree: answering from either one could be silently wrong.
                raise InvalidCase(f"regelsættet {chosen.id} hører til region '{chosen.region}', ikke "
                                  f"'{show_value(region)}'; angiv kun ruleset, kun region (og dato), eller en "
                                  f"region, der passer til regelsættet", path="region")
            return chosen
        if not region or dato is None:
            raise InvalidCase("angiv enten ruleset eller både region og dato", path="ruleset")
        return self.registry.resolve(region, parse_date(dato, "dato"))

    def rulesets(self) -> list[Ruleset]:
        return list(self.registry.rulesets.values())

    # -- evaluating ----------------------------------------------------------

    def evaluate(self, question: str, case: Mapping[str, Any], *, ruleset: str | None = None,
                 region: str | None = None, dato: str | _dt.date | None = None, trace: bool = True,
                 fortolkninger: Mapping[str, str] | None = None) -> Result:
        """Answer ``question`` for ``case`` under the chosen ruleset.

        ``fortolkninger`` (point id -> reading id) answers under other readings
        than the ruleset follows (see ``docs/regelsaet.md``, "Alternative
        læsninger").  Whatever is chosen, the result lists in ``alternatives``
        each other reading of a point the case reached whose answer differs,
        with a warning; where no reading changes the answer nothing is added.
        """
        spec = catalogue().get(question) if isinstance(question, str) else None
        if spec is None:
            raise InvalidCase(f"ukendt spørgsmål '{question}'; kendte: {', '.join(catalogue())}", path="question")
        if dato is not None:
            dato = parse_date(dato, "dato")    # refused before anything else, whichever ruleset is chosen
        with decimal.localcontext(CONTEXT):     # the caller's context never changes an answer
            values = spec.coerce_in_context(case)
            if not ruleset and dato is None and region:
                dato = values.get(DECISION_DATE_FIELD.get(question, ""))
                if dato is None:
                    raise InvalidCase("angiv dato (beslutningsdatoen), så regelsættet kan vælges", path="dato")
            chosen = self.ruleset(ruleset, region=region, dato=dato)
            rule = self._question(chosen, question, values)
            readings = _check_readings(fortolkninger, chosen, rule)
            rule.program            # lowered on first use: that is load work, not the case's time
            deadline = monotonic() + self.limits.seconds
            raw, ctx = rule.run(values, trace, readings=readings, deadline=deadline)
            output = typed_output(spec.outputs, raw, rule.meta.where)
            alternatives = _alternatives(rule, spec.outputs, ctx, readings, output, deadline) if ctx.touched else []
        warnings = list(chosen.status_warnings) + ctx.warnings
        if ctx.touched:
            warnings += _reading_warnings(ctx.touched, readings, alternatives, output)
        if ruleset:
            outside = self._period_warning(chosen, question, values, dato)
            if outside is not None:
                warnings.insert(0, outside)
        if rule.owner != chosen.id:
            warnings.insert(0, ResultWarning(f"Spørgsmålet besvares af de fælles regler i '{rule.owner}'.",
                                             rule.meta.kilde, "bibliotek"))
        return Result(question=question, ruleset=chosen.id, status=chosen.status,
                      output=output, trace=ctx.trace or [], warnings=warnings, ruleset_digest=chosen.digest,
                      catalogue_version=catalogue_version(), alternatives=alternatives, readings=dict(readings))

    def compare(self, question: str, case: Mapping[str, Any], *,
                rulesets: Sequence[str] | None = None, fortolkninger: Mapping[str, str] | None = None,
                readings: bool = False) -> "Comparison":
        """``case`` under each ruleset side by side, and each alternative reading with ``readings=True``
        (see :mod:`rammeaftale.run.compare`)."""
        from .compare import compare   # late: compare calls back into evaluate
        return compare(self, question, case, rulesets, fortolkninger=fortolkninger, readings=readings)

    def _period_warning(self, chosen: Ruleset, question: str, values: Mapping[str, Any],
                        dato: str | _dt.date | None) -> ResultWarning | None:
        """A warning when an explicitly chosen agreement's period does not cover the case's date.

        The date is ``dato`` if given, else the question's decision date in the
        case (:data:`DECISION_DATE_FIELD`); a question without one is not checked.
        """
        if chosen.kind != "aftale":
            return None
        field_ = DECISION_DATE_FIELD.get(question)
        day = parse_date(dato, "dato") if dato is not None else values.get(field_ or "")
        if not isinstance(day, _dt.date) or chosen.covers(day):
            return None
        what = "dato" if dato is not None else field_
        other = self.registry.covering(chosen.region, day)
        instead = (f"; datoen dækkes af {other.id} ({other.valid_from}–{other.valid_to})" if other is not None
                   else f"; intet regelsæt for region '{chosen.region}' dækker datoen")
        return ResultWarning(f"Sagens {what} {day.isoformat()} ligger uden for {chosen.id}s aftaleperiode "
                             f"({chosen.valid_from}–{chosen.valid_to}){instead}. Svaret følger {chosen.id}, "
                             f"som der blev bedt om.", f"{chosen.id}/regelsaet.yaml gyldig_fra/gyldig_til", "periode")

    def _question(self, chosen: Ruleset, question: str, values: Mapping[str, Any]) -> RuleQuestion:
        rule = chosen.questions.get(question)
        if rule is None:
            reason = chosen.unregulated.get(question)
            text = reason["begrundelse"] if reason else "regelsættet indeholder ingen regler om spørgsmålet"
            source = f" (kilde: {reason['kilde']})" if reason and reason.get("kilde") else ""
            raise NotRegulated(f"{chosen.id} regulerer ikke '{question}': {text}{source}",
                               details={"begrundelse": text, "kilde": reason.get("kilde") if reason else None})
        day = values.get(DECISION_DATE_FIELD.get(question, ""))
        if isinstance(day, _dt.date) and not _within(day, rule.valid_from, rule.valid_to):
            raise NotRegulated(f"reglen for '{question}' ({rule.owner}) gælder {rule.valid_from or '…'}–"
                               f"{rule.valid_to or '…'}, ikke {day.isoformat()}",
                               details={"begrundelse": "reglen gælder ikke på sagens dato", "kilde": rule.meta.kilde})
        return rule


def _check_readings(chosen: Mapping[str, str] | None, ruleset: Ruleset, rule: RuleQuestion) -> dict[str, str]:
    """The caller's readings, checked against the points the ruleset declares.

    A point the ruleset declares for another question is accepted (and has no
    effect here), so one set of readings can be passed to every question.
    """
    if not chosen:
        return {}
    if not isinstance(chosen, Mapping):
        raise InvalidCase("'fortolkninger' skal være et afsnit {punkt: læsning}", path="fortolkninger")
    out: dict[str, str] = {}
    for point_id, reading_id in chosen.items():
        point = rule.points.get(point_id) or ruleset.points.get(point_id)
        if point is None:
            known = sorted(set(ruleset.points) | set(rule.points))
            raise InvalidCase(f"regelsættet {ruleset.id} har ingen fortolkning '{point_id}' "
                              f"(kendte: {', '.join(known) or 'ingen'})", path=f"fortolkninger.{point_id}")
        if reading_id not in point.by_id:
            raise InvalidCase(f"fortolkningen '{point_id}' har ingen læsning '{reading_id}' "
                              f"(kendte: {', '.join(point.by_id)})", path=f"fortolkninger.{point_id}")
        if not point.by_id[reading_id].followed:
            out[point_id] = reading_id
    return out


def _alternatives(rule: RuleQuestion, fields: Mapping[str, Any], ctx: Context, readings: Mapping[str, str],
                  output: Mapping[str, Any], deadline: float) -> list[Alternative]:
    """The case again under each other reading of each point it reached, one at a time; keep what differs.

    A reading in ``ctx.moot`` gave the same value where the case reached its
    point, so the rest of the evaluation would be the same: it is not re-run.
    The others resume where the case reached the point (:meth:`RuleQuestion.rerun`).
    """
    out: list[Alternative] = []
    for point in ctx.touched:
        used = readings.get(point.id, point.followed.id)
        for reading in point.readings:
            if reading.id == used or (point.id, reading.id) in ctx.moot:
                continue
            other = dict(readings)
            if reading.followed:
                other.pop(point.id, None)
            else:
                other[point.id] = reading.id
            alternative = Alternative(point.id, reading.id, reading.text, reading.kilde, point.rule,
                                      reading.followed, point.title)
            try:
                theirs = typed_output(fields, rule.rerun(ctx, point, other, deadline), rule.meta.where)
            except InvalidRuleset:
                raise
            except EngineError as exc:
                if _is_limit(exc):
                    raise
                alternative.error = {"kind": exc.kind, "message": str(exc)}
                out.append(alternative)
                continue
            alternative.output = {k: v for k, v in theirs.items() if not _same(v, output.get(k))}
            if alternative.output:
                out.append(alternative)
    return out


def _same(a: Any, b: Any) -> bool:
    """Two typed outputs are the same answer: equal values of the same type (``1`` is not ``True``)."""
    return type(a) is type(b) and a == b


def _is_limit(exc: EngineError) -> bool:
    """A bound of the evaluation (time, size) was hit: that ends the whole call, not one reading."""
    return isinstance(exc, InvalidCase) and "graense" in exc.details


def _reading_warnings(touched: Sequence[Point], readings: Mapping[str, str], alternatives: Sequence[Alternative],
                      output: Mapping[str, Any]) -> list[ResultWarning]:
    """A warning per differing alternative, and one per point where the caller chose another reading."""
    out = []
    for point in touched:
        if point.id in readings:
            reading = point.by_id[readings[point.id]]
            out.append(ResultWarning(
                f"Svaret bygger på læsningen '{reading.id}' af '{point.id}', som er valgt i stedet for "
                f"'{point.followed.id}', som regelsættet følger: {reading.text}", reading.kilde, "fortolkning_valgt"))
    for alt in alternatives:
        if alt.error is not None:
            what = f"ville sagen ikke have et svar ({alt.error['kind']}: {alt.error['message']})"
        else:
            what = "ville " + ", ".join(f"{name} være {to_text(value)} i stedet for {to_text(output.get(name))}"
                                        for name, value in alt.output.items())
        label = "den læsning, regelsættet følger" if alt.followed else "en anden læsning"
        out.append(ResultWarning(f"Teksten kan læses på flere måder ({alt.point}). Efter {label}, "
                                 f"'{alt.reading}', {what}. {alt.text}", alt.kilde, "fortolkning_alternativ"))
    return out


def _within(day: _dt.date, start: _dt.date | None, end: _dt.date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)
