"""Field names as Danish words for people: ``fri_aendring`` → ``Fri ændring``.

The catalogue's names are ASCII identifiers (``ae``, ``oe``, ``aa`` for æ, ø,
å); views for people — the demo, ``spoergsmaal``, templates — show them as
words.  No name in the catalogue has an ``ae``/``oe``/``aa`` that is not one
of those letters (a test walks them all); the few names that need more than
that are listed.
"""

from __future__ import annotations

OVERRIDES = {"pl_faktor": "P/L-faktor", "graense_5_pct": "Grænse (5 %)", "A4": "A4", "A5": "A5", "A7": "A7"}


def label(name: str) -> str:
    """``name`` as Danish words, first letter capital."""
    if name in OVERRIDES:
        return OVERRIDES[name]
    text = name.replace("_", " ").replace("aa", "å").replace("ae", "æ").replace("oe", "ø")
    return text[:1].upper() + text[1:]
