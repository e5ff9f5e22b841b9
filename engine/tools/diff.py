"""What changed between two rulesets, rule by rule, with both citations.

When a new agreement period is written, the secretariat and the kommuner want
to see exactly which rates, deadlines and table rows moved — and where each
version says so.  We compare the flat rule lists of :mod:`engine.rulemap`:
a rule present in only one ruleset is added or removed; a rule present in
both is changed when its value (what it decides, not how it is described)
differs.  A moved citation alone is not a change.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping

from ..run.result import dump
from .rulemap import Rule, rules

if TYPE_CHECKING:  # pragma: no cover
    from ..run.api import Engine

ADDED, REMOVED, CHANGED = "tilfoejet", "fjernet", "aendret"


def diff(engine: "Engine", old_id: str, new_id: str) -> list[dict[str, Any]]:
    """Changes from ruleset ``old_id`` to ``new_id``, in the new ruleset's rule order."""
    old = rules(engine.ruleset(old_id), engine.registry.get)
    new = rules(engine.ruleset(new_id), engine.registry.get)
    return diff_rules(old, new)


def diff_rules(old: Mapping[str, Rule], new: Mapping[str, Rule]) -> list[dict[str, Any]]:
    """The change list between two rule maps (see :func:`diff`)."""
    changes = []
    for ident in list(new) + [i for i in old if i not in new]:
        a, b = old.get(ident), new.get(ident)
        if a is not None and b is not None and _same(a.value, b.value) and a.kind == b.kind:
            continue
        changes.append(_change(ident, a, b))
    return changes


def _same(a: Any, b: Any) -> bool:
    return _canon(a) == _canon(b)


def _canon(value: Any) -> str:
    return json.dumps(dump(value), sort_keys=True, ensure_ascii=False)


def _change(ident: str, old: Rule | None, new: Rule | None) -> dict[str, Any]:
    change = ADDED if old is None else REMOVED if new is None else CHANGED
    either = new or old
    out: dict[str, Any] = {
        "rule": ident, "kind": either.kind, "change": change,
        "old": dump(old.value) if old else None, "new": dump(new.value) if new else None,
        "kilde": {"old": old.kilde if old else None, "new": new.kilde if new else None},
    }
    if old and new:
        out["fields"] = changed_fields(old.value, new.value)
        out["details"] = leaf_changes(dump(old.value), dump(new.value))
        if old.kind != new.kind:
            out["kind"] = f"{old.kind} → {new.kind}"
    return out


def changed_fields(old: Any, new: Any) -> list[str]:
    """Top-level keys whose values differ (the rule's value is usually a mapping)."""
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return []
    return [k for k in list(new) + [k for k in old if k not in new]
            if _canon(old.get(k)) != _canon(new.get(k))]


def leaf_changes(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Value-by-value differences: ``[{"path": "saet.proces[2]", "old", "new"}]``.

    Walks mappings by key and lists by position, so one changed sentence in a
    list of process steps shows as that sentence, not as two whole lists.
    """
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        keys = list(new) + [k for k in old if k not in new]
        return [c for k in keys for c in leaf_changes(old.get(k), new.get(k), f"{path}.{k}" if path else str(k))]
    if isinstance(old, list) and isinstance(new, list):
        return [c for i in range(max(len(old), len(new)))
                for c in leaf_changes(old[i] if i < len(old) else None, new[i] if i < len(new) else None,
                                      f"{path}[{i}]")]
    return [] if _canon(old) == _canon(new) else [{"path": path, "old": old, "new": new}]


# --- rendering ------------------------------------------------------------------

_MARK = {ADDED: "+", REMOVED: "-", CHANGED: "~"}


def render_text(old_id: str, new_id: str, changes: list[dict[str, Any]]) -> str:
    """Readable list: one block per changed rule, value by value, both citations."""
    if not changes:
        return f"Ingen forskelle i reglerne mellem {old_id} og {new_id}."
    lines = [f"Forskelle fra {old_id} til {new_id} ({len(changes)} regler):", ""]
    for c in changes:
        lines.append(f"{_MARK[c['change']]} {c['rule']}  [{c['kind']}, {c['change']}]")
        lines += _value_lines(c)
        if c["kilde"]["old"]:
            lines.append(f"    kilde {old_id}: {c['kilde']['old']}")
        if c["kilde"]["new"]:
            lines.append(f"    kilde {new_id}: {c['kilde']['new']}")
    return "\n".join(lines)


def _value_lines(c: dict[str, Any]) -> list[str]:
    if c["change"] != CHANGED:
        return [f"    {_short(c['new'] if c['change'] == ADDED else c['old'])}"]
    details = c.get("details") or [{"path": "", "old": c["old"], "new": c["new"]}]
    return [f"    {d['path'] + ': ' if d['path'] else ''}{_short(d['old'])}  →  {_short(d['new'])}" for d in details]


def _short(value: Any, width: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= width else text[: width - 1] + "…"
