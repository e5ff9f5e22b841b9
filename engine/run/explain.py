"""Readable Danish explanations of results and errors, for people.

The JSON form (``Result.to_dict``) is for systems; this is what a
secretariat member reads in a terminal: the answer first, then how it was
reached, step by step with the values used and the citation, then warnings.
"""

from __future__ import annotations

from typing import Any

from ..model.catalogue import catalogue
from ..errors import EngineError
from .result import Result
from ..model.trace import TraceStep
from ..model.values import field_kind, to_text


def format_value(value: Any, kind: str | None = None) -> str:
    """One value in Danish notation; amounts as ``1.320.000,00 kr.`` (see :mod:`rammeaftale.model.values`)."""
    return to_text(value, kind)


def explain(result: Result) -> str:
    """The whole explanation of one result."""
    spec = catalogue()[result.question]
    lines = [f"Spørgsmål: {result.question} – {spec.title}",
             f"Regelsæt: {result.ruleset} (status: {result.status})", "", "Resultat:"]
    for name, value in result.output.items():
        lines.append(f"  {name}: {format_value(value, field_kind(spec.outputs[name].spec))}")
    if result.trace:
        lines += ["", "Sådan er resultatet fundet:"]
        for number, step in enumerate(result.trace, 1):
            lines += _step_lines(number, step)
    if result.readings:
        lines += ["", "Valgte læsninger (i stedet for dem, regelsættet følger):"]
        lines += [f"  {point} = {reading}" for point, reading in result.readings.items()]
    if result.alternatives:
        lines += ["", "Andre læsninger af teksten giver et andet svar:"]
        for alt in result.alternatives:
            mark = " (den læsning, regelsættet følger)" if alt.followed else ""
            lines.append(f"  {alt.point} = {alt.reading}{mark} – kilde: {alt.kilde}")
            if alt.error is not None:
                lines.append(f"     intet svar: {alt.error['kind']}: {alt.error['message']}")
            for name, value in alt.output.items():
                kind = field_kind(spec.outputs[name].spec)
                lines.append(f"     {name}: {format_value(value, kind)} (i stedet for "
                             f"{format_value(result.output.get(name), kind)})")
    if result.warnings:
        lines += ["", "Advarsler:"] + [f"  ! {w}" for w in result.warnings]
    return "\n".join(lines)


def _step_lines(number: int, step: TraceStep) -> list[str]:
    head = f"  {number}. {step.rule}" + (f" – {step.title}" if step.title else "")
    out = [head]
    if step.values:
        used = ", ".join(f"{k} = {format_value(v)}" for k, v in step.values.items())
        out.append(f"     brugte: {used}")
    out.append(f"     gav: {format_value(step.result)}")
    if step.kilde:
        out.append(f"     kilde: {step.kilde}")
    out += [f"     note: {n}" for n in step.notes]
    return out


def explain_error(error: EngineError) -> str:
    kinds = {"invalid_case": "Fejl i sagen", "no_ruleset": "Intet regelsæt",
             "not_regulated": "Ikke reguleret", "invalid_ruleset": "Fejl i regelsæt"}
    head = kinds.get(error.kind, "Fejl")
    field = f" (felt: {error.path})" if error.path else ""
    return f"{head}{field}: {error}"
