"""A printable HTML page per ruleset: every rule in plain Danish with its source.

Politicians, kommuner and auditors do not read YAML.  ``rammeaftale report``
writes one self-contained page (no scripts, no external files, prints well)
that shows each question the ruleset answers or does not regulate, its
tables and formulas, status badges, and for every rule its ``kilde`` — with
the quoted line(s) from the source text — the project's own copy in
``rulesets/kilder/`` (also inside an installed wheel), or ``--kilder DIR``.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from ..model.catalogue import catalogue
from ..model.compiler import KILDE_PATTERN
from ..model.kinds import kind_of
from ..model.readings import Point
from ..model.ruleset import RuleQuestion, Ruleset
from ..model.values import to_text
from .rulemap import answered
from .scaffold import unverified
from .sources import Sources as SourceTexts, explicit_sources

if TYPE_CHECKING:  # pragma: no cover
    from ..run.api import Engine

MAX_QUOTE_LINES = 12

CSS = """
body{font-family:Georgia,'Times New Roman',serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem} h2{border-bottom:2px solid #333;margin-top:2.2rem;page-break-after:avoid}
h3{margin:1.2rem 0 .3rem} .meta{color:#444} .badge{display:inline-block;font:600 .75rem sans-serif;padding:.1rem .45rem;
border-radius:.6rem;margin-left:.4rem;vertical-align:middle;text-transform:uppercase;letter-spacing:.03em}
.vedtaget{background:#d8f0d8;color:#155215} .udkast{background:#fff1c2;color:#6b4d00} .forslag{background:#fde0d2;color:#7a2a00}
.ikke_reguleret{background:#e4e4e4;color:#333} .fejl{background:#f7d4d4;color:#7a0000}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.9rem;page-break-inside:avoid}
th,td{border:1px solid #999;padding:.25rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere} th{background:#eee;overflow-wrap:normal}
.kilde{font:.8rem sans-serif;color:#333} blockquote{margin:.2rem 0 .6rem 1rem;padding:.2rem .6rem;border-left:3px solid #aaa;
font-size:.85rem;color:#333;white-space:pre-wrap} .note{font-style:italic;color:#333} .warn{border:1px solid #c90;background:#fff8e0;padding:.5rem}
.step{margin:.6rem 0 .9rem;page-break-inside:avoid} code{font-size:.9em;background:#f3f3f3;padding:0 .2rem;overflow-wrap:anywhere} pre{white-space:pre-wrap;margin:0}
@media print{body{margin:0;max-width:none} a{color:inherit}}
"""

_WORDS = [(r"\band\b", "og"), (r"\bor\b", "eller"), (r"\bnot\b", "ikke"), (r"\bin\b", "er en af"),
          (r"\bif\b", "hvis"), (r"\belse\b", "ellers"), (r"\b[Tt]rue\b", "ja"), (r"\b[Ff]alse\b", "nej"),
          (r"\bNone\b", "intet"), (r"==", "="), (r"!=", "≠"), (r"<=", "≤"), (r">=", "≥"), (r"\*", "·")]


# --- page building blocks (also used by the HTML result formatter plugin) ---------------

def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def badge(status: str | None, label: str | None = None) -> str:
    if not status:
        return ""
    return f'<span class="badge {esc(status)}">{esc(label or status.replace("_", " "))}</span>'


def page(title: str, body: str) -> str:
    """A complete, self-contained HTML document."""
    return (f'<!DOCTYPE html>\n<html lang="da"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n")


def plain(expression: Any) -> str:
    """A formula with Python's operators in Danish words (``and`` → ``og``)."""
    text = str(expression)
    for pattern, word in _WORDS:
        text = re.sub(pattern, word, text)
    return text


def condition_text(cell: Any) -> str:
    """A table cell: ``[a, b]`` → "a eller b", ``{fra: 1, til: 5}`` → "fra 1 til 5", ``-`` → alle."""
    if cell in ("-", None):
        return "(alle)"
    if isinstance(cell, list):
        items = [to_text(c) for c in cell]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " eller " + items[-1]
    if isinstance(cell, dict):
        words = {"fra": "fra", "til": "til og med", "over": "over", "under": "under"}
        return " ".join(f"{words[k]} {cell[k]}" for k in ("fra", "over", "til", "under") if k in cell)
    return to_text(cell)


# --- sources ---------------------------------------------------------------------

class Sources(SourceTexts):
    """Quotes source lines for a ``kilde`` (``KORTNAVN:FRA-TIL henvisning``), as HTML for the page.

    The texts are the project's own (``rulesets/kilder/``, in the wheel too)
    unless an explicit folder is given; see :mod:`rammeaftale.tools.sources`
    for the lookup and the file-safety rules.
    """

    def quote(self, kilde: str | None, max_lines: int = MAX_QUOTE_LINES) -> list[tuple[int, str]]:
        return super().quote(kilde, max_lines)

    def cite(self, kilde: str | None) -> str:
        """The citation line plus its quoted text (if the sources are available)."""
        if not kilde:
            return ""
        out = f'<div class="kilde">Kilde: {esc(kilde)}</div>'
        quoted = self.quote(kilde)
        if quoted:
            more = "\n…" if _span(kilde) > len(quoted) else ""
            out += "<blockquote>" + esc("\n".join(text for _, text in quoted)) + esc(more) + "</blockquote>"
        return out


def _span(kilde: str) -> int:
    match = KILDE_PATTERN.match(kilde)
    return int(match["til"] or match["fra"]) - int(match["fra"]) + 1 if match else 0


# --- the ruleset page ---------------------------------------------------------------

def render_ruleset(engine: "Engine", ruleset: Ruleset, sources: Sources) -> str:
    """The whole printable page for one ruleset."""
    questions = answered(ruleset, engine.registry.get)
    sources.add(ruleset)
    for question in questions.values():
        if question.owner != ruleset.id and question.owner in engine.registry.rulesets:
            sources.add(engine.registry.rulesets[question.owner])
    parts = [_header(ruleset, sources), _contents(ruleset, questions), _readings(ruleset, questions, sources),
             _parameters(ruleset, sources)]
    for name, spec in catalogue().items():
        if name in questions:
            question = questions[name]
            parts.append(_question(name, spec.title, question.meta.source, ruleset, question.owner, sources))
        elif name in ruleset.unregulated:
            parts.append(_unregulated(name, spec.title, ruleset.unregulated[name], sources))
    parts.append(f'<p class="meta">Udskrevet {_dt.date.today().isoformat()} af rammeaftale-engine.</p>')
    return page(f"{ruleset.name} ({ruleset.id})", "\n".join(parts))


def _contents(ruleset: Ruleset, questions: dict[str, RuleQuestion]) -> str:
    items = []
    for name, spec in catalogue().items():
        if name in questions:
            status = questions[name].meta.source.get("status") or ruleset.status
            items.append(f'<li><a href="#{esc(name)}">{esc(spec.title)}</a>{badge(status)}</li>')
        elif name in ruleset.unregulated:
            items.append(f'<li><a href="#{esc(name)}">{esc(spec.title)}</a>{badge("ikke_reguleret", "ikke reguleret")}</li>')
    out = f"<h3>Spørgsmål</h3><ul>{''.join(items)}</ul>"
    count = len(open_readings(ruleset, questions))
    return out + (f'<p><a href="#laesninger">Åbne læsninger: {count}</a></p>' if count else "")


def _header(ruleset: Ruleset, sources: Sources) -> str:
    data = ruleset.data
    where = ("bibliotek med fælles regler (hvert spørgsmål har sin egen gyldighed)" if ruleset.kind == "bibliotek"
             else f"region {esc(ruleset.region)} · gælder {ruleset.valid_from.isoformat()} – "
                  f"{ruleset.valid_to.isoformat()}")
    out = [f"<h1>{esc(ruleset.name)}{badge(ruleset.status)}</h1>",
           f'<p class="meta">Regelsæt <code>{esc(ruleset.id)}</code> · {where}'
           + (f" · afløser <code>{esc(data['afloeser'])}</code>" if data.get("afloeser") else "") + "</p>"]
    if ruleset.status_reason:
        out.append(f"<p>{esc(ruleset.status_reason)}</p>")
    if "maanedsregel" in data:
        out.append(f"<p><b>Månedsregel:</b> {esc(ruleset.month_rule)}. "
                   f"{esc(data.get('maanedsregel_begrundelse', ''))}</p>")
    warnings = unverified(ruleset)
    if warnings:
        out.append(f'<p class="warn"><b>{len(warnings)} regler er ikke genverificeret</b> mod den nye aftaletekst; '
                   "de er kopieret fra den forrige periode.</p>")
    items = "".join(f"<li><code>{esc(name)}</code> — {esc(s['titel'])} (<code>{esc(s['fil'])}</code>)"
                    f"{badge(s.get('status'))}</li>" for name, s in ruleset.sources.items())
    out.append(f"<h3>Kilder</h3><ul>{items}</ul>")
    missing = [name for name in ruleset.sources if sources.lines(name) is None]
    if missing:
        out.append('<p class="note">Kildeteksterne var ikke tilgængelige for '
                   f"{esc(', '.join(missing))} ({esc(sources.where(missing[0]))}); citaterne vises uden tekst.</p>")
    return "\n".join(out)


def open_readings(ruleset: Ruleset, questions: Mapping[str, RuleQuestion]) -> list[tuple[str, Point]]:
    """``(spørgsmål, punkt)`` for every point of alternative readings the ruleset's answers can reach."""
    out: list[tuple[str, Point]] = []
    seen: set[int] = set()
    for name, question in questions.items():
        for point in question.points.values():
            if id(point) not in seen:
                seen.add(id(point))
                out.append((name, point))
    for point in ruleset.points.values():     # parameters no question uses are still open readings
        if id(point) not in seen:
            seen.add(id(point))
            out.append(("", point))
    return out


def _readings(ruleset: Ruleset, questions: Mapping[str, RuleQuestion], sources: Sources) -> str:
    """The open readings: wordings KKR could settle, each with the reading followed and the alternatives."""
    found = open_readings(ruleset, questions)
    if not found:
        return ""
    out = [f'<h2 id="laesninger">Åbne læsninger ({len(found)})</h2>',
           '<p>Tekster, der ærligt kan læses på flere måder. Regelsættet følger den første læsning; hvert '
           'svar, som en anden læsning ville ændre, viser det andet svar og advarer '
           '(<code>alternativer</code>). Når KKR har afgjort spørgsmålet, fjernes læsningerne, jf. '
           '<code>docs/regelsaet.md</code>.</p>']
    for question, point in found:
        where = f"spørgsmål <code>{esc(question)}</code> · " if question else ""
        out.append(f'<h3><code>{esc(point.id)}</code>: {esc(point.title or "")}</h3>'
                   f'<p class="meta">{where}regel <code>{esc(point.rule)}</code> · {esc(point.where)}</p>')
        rows = [f"<tr><td><code>{esc(point.followed.id)}</code> (følges)</td><td>{esc(point.followed.text)}</td>"
                f"<td></td><td>{sources.cite(point.followed.kilde)}</td></tr>"]
        rows += [f"<tr><td><code>{esc(r.id)}</code></td><td>{esc(r.text)}</td><td><code>{esc(r.change)}</code></td>"
                 f"<td>{sources.cite(r.kilde)}</td></tr>" for r in point.alternatives]
        out.append("<table><tr><th>Læsning</th><th>Tekst</th><th>Ændrer</th><th>Kilde</th></tr>"
                   + "".join(rows) + "</table>")
    return "\n".join(out)


def _parameters(ruleset: Ruleset, sources: Sources) -> str:
    if not ruleset.parameters:
        return ""
    rows = "".join(f"<tr><td><code>{esc(p.name)}</code>{badge(p.status)}</td><td>{esc(to_text(p.value))}</td>"
                   f"<td>{esc(p.description or '')}{_note(p.note)}</td><td>{sources.cite(p.kilde)}</td></tr>"
                   for p in ruleset.parameters.values())
    return ("<h2>Aftalens tal (parametre)</h2><table><tr><th>Navn</th><th>Værdi</th><th>Betydning</th>"
            f"<th>Kilde</th></tr>{rows}</table>")


def _question(name: str, title: str, data: Mapping[str, Any], ruleset: Ruleset, owner: str, sources: Sources) -> str:
    status = data.get("status") or ruleset.status
    out = [f'<h2 id="{esc(name)}">{esc(data.get("titel") or title)}{badge(status)}</h2>',
           f'<p class="meta">Spørgsmål <code>{esc(name)}</code>: {esc(title)}'
           + (f" · fælles regler fra <code>{esc(owner)}</code>" if owner != ruleset.id else "") + "</p>",
           _text(data), sources.cite(data.get("kilde"))]
    local = data.get("parametre") or {}
    if local:
        rows = "".join(f"<tr><td><code>{esc(k)}</code></td><td>{esc(to_text(v['vaerdi']))}</td>"
                       f"<td>{esc(v.get('beskrivelse', ''))}</td><td>{sources.cite(v.get('kilde'))}</td></tr>"
                       for k, v in local.items())
        out.append(f"<table><tr><th>Tal</th><th>Værdi</th><th>Betydning</th><th>Kilde</th></tr>{rows}</table>")
    out.append(_steps(data.get("trin", []), sources))
    results = "".join(f"<li><code>{esc(k)}</code>" + (f" = {esc(plain(v))}" if v != k else " (trinnet af samme navn)")
                      + "</li>" for k, v in result_entries(data.get("resultat")))
    out.append(f"<h3>Svaret</h3><ul>{results}</ul>")
    return "\n".join(out)


def _unregulated(name: str, title: str, spec: dict[str, Any], sources: Sources) -> str:
    return (f'<h2 id="{esc(name)}">{esc(title)}{badge("ikke_reguleret", "ikke reguleret")}</h2>'
            f'<p class="meta">Spørgsmål <code>{esc(name)}</code></p><p>{esc(spec.get("begrundelse"))}</p>'
            + sources.cite(spec.get("kilde")))


def _text(data: dict[str, Any]) -> str:
    out = f"<p>»{esc(data['tekst'])}«</p>" if data.get("tekst") else ""
    return out + _note(data.get("fortolkning"))


def _note(note: str | None) -> str:
    return f'<p class="note">Fortolkning: {esc(note)}</p>' if note else ""


def _steps(steps: Iterable[dict[str, Any]], sources: Sources) -> str:
    return "\n".join(_step(step, sources) for step in steps)


def _step(step: Mapping[str, Any], sources: Sources) -> str:
    head = (f'<div class="step"><h3>{esc(step.get("titel") or step["id"])}{badge(step.get("status"))}</h3>'
            + _guard_text(step))
    body = _BODIES[kind_of(step)](step, sources)
    return head + body + _text(step) + sources.cite(step.get("kilde")) + "</div>"


def _guard_text(step: Mapping[str, Any]) -> str:
    """"Kun når …": the row condition in words and/or the formula (the old form: a formula under naar)."""
    parts = []
    naar = step.get("naar")
    if isinstance(naar, Mapping) and naar:
        parts.append(esc("; ".join(f"{k} er {condition_text(v)}" for k, v in naar.items())))
    elif isinstance(naar, str):
        parts.append(f"<code>{esc(plain(naar))}</code>")
    if step.get("naar_formel"):
        parts.append(f"<code>{esc(plain(step['naar_formel']))}</code>")
    return f"<p>Kun når: {' og '.join(parts)}</p>" if parts else ""


def result_entries(raw: Any) -> list[tuple[str, Any]]:
    """``resultat`` as (output, formula) pairs; a bare name is its own formula (the old form: a mapping)."""
    if isinstance(raw, Mapping):
        return list(raw.items())
    out: list[tuple[str, Any]] = []
    for item in raw or ():
        if isinstance(item, Mapping):
            out.extend(item.items())
        else:
            out.append((item, item))
    return out


def _formula(step: dict[str, Any], sources: Sources) -> str:
    return f"<p><code>{esc(step['id'])}</code> beregnes som <code>{esc(plain(step['formel']))}</code></p>"


def _table(step: dict[str, Any], sources: Sources) -> str:
    table = step["tabel"]
    policy = "præcis én regel kan gælde" if table["hitpolitik"] == "unik" else "den første regel, der passer, gælder"
    head = "".join(f"<th>{esc(c)}</th>" for c in table["input"]) + "".join(
        f"<th>→ {esc(c)}</th>" for c in table["udfald"])
    rows = "".join(_table_row(row, table, sources) for row in table["regler"])
    missing = table.get("ingen_match")
    tail = (f"<p>Hvis ingen regel passer: {esc(missing['besked'])} ({esc(missing['fejl'])}).</p>" if missing else "")
    return (f"<p>Beslutningstabel ({policy}).</p><table><tr><th>Regel</th>{head}<th>Kilde</th></tr>{rows}</table>"
            + tail)


def _table_row(row: dict[str, Any], table: dict[str, Any], sources: Sources) -> str:
    conditions = "".join(f"<td>{esc(condition_text(row['naar'].get(c, '-')))}</td>" for c in table["input"])
    results = "".join(f"<td>{_outcome(row, c)}</td>" for c in table["udfald"])
    return (f"<tr><td><code>{esc(row['id'])}</code>{badge(row.get('status'))}{_note(row.get('fortolkning'))}</td>"
            f"{conditions}{results}<td>{sources.cite(row.get('kilde'))}</td></tr>")


def _outcome(row: dict[str, Any], column: str) -> str:
    if column in row.get("saet", {}):
        return esc(to_text(row["saet"][column]))
    if column in row.get("beregn", {}):
        return f"<code>{esc(plain(row['beregn'][column]))}</code>"
    return ""


def _require(step: dict[str, Any], sources: Sources) -> str:
    return f"<p>Sagen skal oplyse: {esc(', '.join(step['kraev']))}.</p>"


def _unregulated_step(step: dict[str, Any], sources: Sources) -> str:
    return f"<p>{badge('ikke_reguleret', 'ikke reguleret')} {esc(step['ikke_reguleret'])}</p>"


def _warning(step: dict[str, Any], sources: Sources) -> str:
    return f'<p class="warn">Advarsel: {esc(step["advarsel"])}</p>'


def _variants(step: dict[str, Any], sources: Sources) -> str:
    spec = step["varianter"]
    out = [f"<p>Én af følgende varianter vælges efter {esc(', '.join(spec['input']))}:</p>"]
    if spec.get("standard"):
        given = ", ".join(f"{k} = {plain(v)}" for k, v in spec["standard"].items())
        out.append(f"<p>En variant, der ikke selv sætter det, har: <code>{esc(given)}</code>.</p>")
    for variant in spec["liste"]:
        when = "; ".join(f"{k} er {condition_text(v)}" for k, v in variant["naar"].items())
        out.append(f'<div class="step" style="margin-left:1rem"><h3>{esc(variant["titel"])}'
                   f"{badge(variant.get('status'))}</h3><p>Når {esc(when)}.</p>{_text(variant)}"
                   f"{sources.cite(variant.get('kilde'))}{_steps(variant['trin'], sources)}</div>")
    return "\n".join(out)


def _plugin_block(step: Mapping[str, Any], sources: Sources) -> str:
    params = {k: v for k, v in step["blok"].items() if k != "type"}
    given = "".join(f"<li><code>{esc(k)}</code> = {esc(to_text(v))}</li>" for k, v in params.items())
    return (f"<p><code>{esc(step['id'])}</code> beregnes af byggeklodsen <code>{esc(step['blok']['type'])}</code> "
            f"fra et plugin" + (f" med parametrene:</p><ul>{given}</ul>" if given else " (uden parametre).</p>"))


#: The body of each step kind (keyed like :data:`~rammeaftale.model.kinds.STEP_KINDS`; a test checks that).
_BODIES: dict[str, Callable[[Mapping[str, Any], Sources], str]] = {
    "formel": _formula, "tabel": _table, "kraev": _require, "ikke_reguleret": _unregulated_step,
    "advarsel": _warning, "varianter": _variants, "blok": _plugin_block,
}


def write_report(engine: "Engine", ruleset_id: str, output: Path, sources_dir: Path | None = None) -> Path:
    """Render ``ruleset_id`` to ``output`` (HTML); quotes come from the project's own texts or ``sources_dir``."""
    ruleset = engine.ruleset(ruleset_id)
    sources = Sources(sources_dir or explicit_sources(), engine.rulesets())
    output.write_text(render_ruleset(engine, ruleset, sources), "utf-8")
    return output
