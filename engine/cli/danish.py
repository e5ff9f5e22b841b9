"""argparse in Danish: usage, help headings and argument errors.

argparse looks its messages up through ``gettext`` at the moment it shows
them; the command line is Danish, so this module gives argparse a lookup that
answers in Danish (the texts are argparse's own message ids).  Only this
process's argparse is affected, and only once :func:`install` has run.
"""

from __future__ import annotations

import argparse
import datetime as _dt

MESSAGES = {
    "usage: ": "brug: ",
    "positional arguments": "argumenter",
    "options": "tilvalg",
    "optional arguments": "tilvalg",
    "show this help message and exit": "vis denne hjælp og afslut",
    "%(prog)s: error: %(message)s\n": "%(prog)s: fejl: %(message)s\n",
    "the following arguments are required: %s": "disse argumenter mangler: %s",
    "unrecognized arguments: %s": "ukendte argumenter: %s (se 'rammeaftale --help')",
    "invalid choice: %(value)r (choose from %(choices)s)": "ukendt valg %(value)r (vælg mellem %(choices)s)",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s: %(message)s",
    "expected one argument": "mangler en værdi",
    "expected at least one argument": "mangler mindst én værdi",
    "expected at most one argument": "højst én værdi",
    "invalid %(type)s value: %(value)r": "ugyldig værdi %(value)r (forventede %(type)s)",
    "ambiguous option: %(option)s could match %(matches)s": "tvetydigt tilvalg %(option)s: kan være %(matches)s",
    "not allowed with argument %s": "kan ikke bruges sammen med %s",
    "one of the arguments %s is required": "et af argumenterne %s skal angives",
    "ignored explicit argument %r": "tilvalget tager ingen værdi (fik %r)",
    "unexpected option string: %s": "uventet tilvalg: %s",
    "can't open '%(filename)s': %(error)s": "kan ikke åbne '%(filename)s': %(error)s",
}
PLURALS = {"expected %s argument": ("mangler %s værdi", "mangler %s værdier")}


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    forms = PLURALS.get(singular)
    if forms is None:
        return singular if n == 1 else plural
    return forms[0] if n == 1 else forms[1]


def install() -> None:
    """Make argparse speak Danish in this process."""
    argparse._ = gettext                      # type: ignore[attr-defined]
    argparse.ngettext = ngettext              # type: ignore[attr-defined]


def date(text: str) -> _dt.date:
    """An argument date: ``ÅÅÅÅ-MM-DD`` (argparse names the type in its error by ``__name__``)."""
    return _dt.date.fromisoformat(text)


date.__name__ = "en dato som ÅÅÅÅ-MM-DD"


def whole_number(text: str) -> int:
    return int(text)


whole_number.__name__ = "et helt tal"
