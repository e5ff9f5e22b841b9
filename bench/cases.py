"""Sample cases the bench cycles through, and the outputs it checks before timing.

Why a fixed, mixed set: a benchmark on one case measures one branch.  These
cover every group and branch of the syddanmark-2021 opsigelse rule (botilbud
with and without a mid-month ophørsdato, dagtilbud, krisecenter, misbrug,
month-end clipping across a year boundary) and three lukning shapes
(underskud, overskud with a tie broken by name, amount below the selvrisiko).
Every case is valid for all three implementations, so each is timed on
identical inputs.
"""

from __future__ import annotations

from typing import Any

RULESET = "syddanmark-2021"

OPSIGELSE_CASES: list[dict[str, Any]] = [
    {"paragraf": "SEL-108", "opsigelsesdato": "2021-01-14"},
    {"paragraf": "SEL-107", "opsigelsesdato": "2021-01-14", "ophoersdato": "2021-02-20"},
    {"paragraf": "ABL-105", "opsigelsesdato": "2021-03-31", "ophoersdato": "2021-06-30"},
    {"paragraf": "SEL-108", "opsigelsesdato": "2021-12-31", "ophoersdato": "2022-01-15"},
    {"paragraf": "SEL-104", "opsigelsesdato": "2021-02-10"},
    {"paragraf": "FSL-20-2", "opsigelsesdato": "2021-05-05", "ophoersdato": "2021-07-15"},
    {"paragraf": "LSV-1-3", "opsigelsesdato": "2021-08-31", "situation": "ophoer"},
    {"paragraf": "SEL-36", "opsigelsesdato": "2021-11-02"},
    {"paragraf": "SEL-109", "opsigelsesdato": "2021-06-01", "udskrivningsdato": "2021-06-12"},
    {"paragraf": "SEL-101", "opsigelsesdato": "2021-09-01", "udskrivningsdato": "2021-09-03",
     "ophoersdato": "2021-09-10"},
]

#: sidste_betalingsdag for each case above, worked out by hand from Bilag 6.
OPSIGELSE_EXPECTED_DAYS: list[str] = [
    "2021-02-28", "2021-03-14", "2021-06-30", "2022-02-28", "2021-02-28",
    "2021-07-15", "2021-08-31", "2021-11-30", "2021-06-12", "2021-09-10",
]

LUKNING_CASES: list[dict[str, Any]] = [
    {   # the worked example of the brief
        "driftsherre": "Vejle", "driftsherre_type": "kommune", "organisering": "selvstaendigt",
        "beslutningsdato": "2021-05-01", "budget": "20000000", "aarsresultat": "-4000000",
        "overfoert_resultat": "-1000000",
        "omsaetning": {"Vejle": {"2019": "330000", "2020": "330000"},
                       "Odense": {"2019": "670000", "2020": "670000"}},
    },
    {   # overskud; 50,000.02 over three equal weights -> one øre decided by name
        "driftsherre": "Odense", "driftsherre_type": "kommune", "organisering": "selvstaendigt",
        "beslutningsdato": "2021-09-15", "budget": "1000000", "aarsresultat": "80000.02",
        "overfoert_resultat": "20000",
        "omsaetning": {"Odense": {"2019": "100", "2020": "200"},
                       "Kolding": {"2019": "150", "2020": "150"},
                       "Vejle": {"2019": "300", "2020": "0"}},
    },
    {   # underskud smaller than the selvrisiko: nothing to share
        "driftsherre": "Kolding", "driftsherre_type": "kommune", "organisering": "selvstaendigt",
        "beslutningsdato": "2021-02-01", "budget": "20000000", "aarsresultat": "-30000",
        "overfoert_resultat": "0",
        "omsaetning": {"Kolding": {"2019": "500000", "2020": "400000"},
                       "Vejle": {"2019": "100000", "2020": "250000"}},
    },
]

#: The figures the brief states for the first lukning case.
LUKNING_EXPECTED_FIRST: dict[str, Any] = {
    "selvrisiko": "1000000.00",
    "til_fordeling": "4000000.00",
    "fordeling": {"Vejle": "1320000.00", "Odense": "2680000.00"},
    "driftsherre_i_alt": "2320000.00",
}

#: Outputs that must agree between the engine and the hand-written version
#: before a speed ratio is meaningful.  The remaining outputs (rule ids,
#: wording of the frist, display shares) are the ruleset's own choice of text;
#: differences there are reported but do not make the comparison unfair.
STRICT_KEYS: dict[str, tuple[str, ...]] = {
    "opsigelse": ("sidste_betalingsdag",),
    "lukning": ("akkumuleret_resultat", "selvrisiko", "til_fordeling", "fordeling",
                "driftsherre_i_alt"),
}
