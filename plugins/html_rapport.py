"""HTML-formatter: et resultat som en selvstændig, printbar side.

``rammeaftale evaluate SPØRGSMÅL --case FIL --format html > svar.html`` giver
en side, der kan lægges i en sag eller sendes til en anden kommune: svaret,
regelsættets status, hvert trin med værdier og kilde, og alle advarsler.
"""

from __future__ import annotations

from typing import Any

from rammeaftale.plugin_api import catalogue, field_kind, hookimpl, to_html


def render_result(result: dict[str, Any]) -> str:
    """``Result.to_dict()`` → a complete HTML document."""
    # The report's helpers come with the whole report module: imported when a page is made,
    # not by every command that loads the plugins.
    from rammeaftale.plugin_api import badge, esc, page
    spec = catalogue().get(str(result.get("question")))
    outputs = spec.outputs if spec else {}
    output = "".join(
        f"<tr><th>{esc(k)}</th><td><pre>{to_html(v, field_kind(outputs[k].spec) if k in outputs else None)}</pre></td></tr>"
        for k, v in result.get("output", {}).items())
    steps = "".join(
        f"<tr><td><code>{esc(s.get('rule') or s.get('id'))}</code></td><td>{esc(s.get('title') or '')}</td>"
        f"<td><pre>{to_html(s.get('result'))}</pre></td><td class='kilde'>{esc(s.get('kilde'))}</td></tr>"
        for s in result.get("trace", []))
    warnings = "".join(f"<li>{esc(w['tekst'])}</li>" for w in result.get("warnings", []))
    body = (f"<h1>{esc(spec.title if spec else result.get('question'))}{badge(result.get('status'))}</h1>"
            f"<p class='meta'>Spørgsmål <code>{esc(result.get('question'))}</code> · "
            f"regelsæt <code>{esc(result.get('ruleset'))}</code></p>"
            f"<h2>Svar</h2><table>{output}</table>"
            + (f"<h2>Advarsler</h2><ul>{warnings}</ul>" if warnings else "")
            + (f"<h2>Sådan er svaret fundet</h2><table><tr><th>Regel</th><th>Hvad</th><th>Resultat</th>"
               f"<th>Kilde</th></tr>{steps}</table>" if steps else ""))
    return page(f"{result.get('question')} – {result.get('ruleset')}", body)


@hookimpl
def rammeaftale_formatters() -> dict[str, Any]:
    return {"html": render_result}
