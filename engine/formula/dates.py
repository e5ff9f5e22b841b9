"""Calendar arithmetic for notice periods (no business days).

The agreements count in "løbende måned", months and days.  Adding months to a
date whose day does not exist in the target month (31 January + 1 month) has
no single answer, so the rule is a parameter that each ruleset declares —
the engine never picks one silently:

* ``afkort``  — clip to the month's last day (31 Jan + 1 md = 28/29 Feb);
* ``overloeb`` — carry the surplus days into the next month (= 3/2 Mar).
"""

from __future__ import annotations

import datetime as _dt

MONTH_RULES = ("afkort", "overloeb")
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_leap(year: int) -> bool:
    """Gregorian leap year (``calendar.isleap``; the calendar module and the locale module it
    imports cost every process that loads a ruleset a couple of milliseconds)."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    """Days in a month (``calendar.monthrange`` also works out a weekday: 4x slower on the hot path)."""
    if month == 2:
        return 29 if is_leap(year) else 28
    return _MONTH_DAYS[month - 1]


def month_end(day: _dt.date) -> _dt.date:
    """Last day of ``day``'s month ("løbende måned")."""
    return _dt.date(day.year, day.month, days_in_month(day.year, day.month))


def is_month_end(day: _dt.date) -> bool:
    return day == month_end(day)


def add_months(day: _dt.date, months: int, rule: str) -> _dt.date:
    """``day`` plus whole calendar months under the declared end-of-month rule."""
    if rule not in MONTH_RULES:
        raise ValueError(f"ukendt månedsregel {rule!r}; brug {' eller '.join(MONTH_RULES)}")
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = days_in_month(year, month + 1)
    if day.day <= last:
        return _dt.date(year, month + 1, day.day)
    if rule == "afkort":
        return _dt.date(year, month + 1, last)
    return _dt.date(year, month + 1, last) + _dt.timedelta(days=day.day - last)


def add_days(day: _dt.date, days: int) -> _dt.date:
    return day + _dt.timedelta(days=days)


def days_in_year(year: int) -> int:
    return 366 if is_leap(year) else 365


# --- Notice periods written as the agreements write them -------------------

_NUMBER_WORDS = {"en": 1, "et": 1, "én": 1, "ét": 1, "to": 2, "tre": 3, "fire": 4, "fem": 5,
                 "seks": 6, "syv": 7, "otte": 8, "ni": 9, "ti": 10, "elleve": 11, "tolv": 12}
_UNITS = {"måned": "m", "måneder": "m", "md": "m", "mdr": "m", "dag": "d", "dage": "d"}
MAX_PERIOD = 1200  # months or days in one term; more is a typo, not a rule


class PeriodSyntaxError(ValueError):
    """A notice period text that does not follow the documented grammar."""


class Frist:
    """A notice period such as ``løbende måned + 1 måned`` or ``30 dage``.

    Grammar (case-insensitive; ``plus`` and ``+`` are the same; numbers as digits
    or the words en…tolv)::

        frist  := ["løbende måned"] { ("+"|"plus") N enhed } | N enhed { ... }
        enhed  := måned | måneder | dag | dage

    ``løbende måned`` runs to the end of the month the notice is given in;
    each further month then ends at a month's end too.  Plain months count
    from the notice date under the ruleset's end-of-month rule.
    """

    __slots__ = ("text", "running_month", "months", "days")

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        self.running_month, self.months, self.days = _parse_period(self.text)

    def __repr__(self) -> str:
        return f"Frist({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Frist) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def key(self) -> tuple[bool, int, int]:
        return (self.running_month, self.months, self.days)

    def last_day(self, notice: _dt.date, rule: str) -> _dt.date:
        """Last day paid for notice given on ``notice`` ("til og med").

        "Løbende måned + N måneder" ends on the last day of the N-th month
        after the notice's month; plain months count from the notice date
        under ``rule``; days are added last.
        """
        if self.running_month:
            year, month0 = divmod(notice.year * 12 + notice.month - 1 + self.months, 12)
            end = _dt.date(year, month0 + 1, days_in_month(year, month0 + 1))
        else:
            end = add_months(notice, self.months, rule)
        return end + _dt.timedelta(days=self.days) if self.days else end


def _parse_period(text: str) -> tuple[bool, int, int]:
    words = text.lower().replace("+", " + ").replace(",", " ").replace(".", " ").split()
    running = False
    if words[:2] == ["løbende", "måned"]:
        running, words = True, words[2:]
    months = days = 0
    expect_term = not running
    i = 0
    while i < len(words):
        if words[i] in ("+", "plus"):
            if expect_term:  # '+ 1 måned', '1 måned + + 1 dag'
                raise PeriodSyntaxError(f"kan ikke læse fristen '{text}'")
            i += 1
            expect_term = True
            continue
        if not expect_term or i + 1 >= len(words):
            raise PeriodSyntaxError(f"kan ikke læse fristen '{text}'")
        count = _number(words[i], text)
        unit = _UNITS.get(words[i + 1])
        if unit is None:
            raise PeriodSyntaxError(f"ukendt enhed '{words[i + 1]}' i fristen '{text}' (brug måned(er) eller dag(e))")
        if unit == "m":
            months += count
        else:
            days += count
        i += 2
        expect_term = False
    if expect_term or not running and months == 0 and days == 0:  # also a dangling '1 måned +'
        raise PeriodSyntaxError(f"kan ikke læse fristen '{text}'")
    return running, months, days


def _number(word: str, text: str) -> int:
    if word in _NUMBER_WORDS:
        return _NUMBER_WORDS[word]
    # ASCII only: '²'.isdigit() is true but int('²') fails; the length cap keeps
    # int() away from Python's 4300-digit limit.
    if word.isascii() and word.isdigit() and len(word) <= 10 and int(word) <= MAX_PERIOD:
        return int(word)
    raise PeriodSyntaxError(f"'{word}' er ikke et antal i fristen '{text}'")
