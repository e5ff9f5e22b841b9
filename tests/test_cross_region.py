"""One closure case, three agreements: different models, each faithful to its text.

Issue 4's proof that the engine is generic: the same case (carrying both
turnover for Syddanmark and occupancy for Sjælland) gives Syddanmark's 5 %
self-risk and turnover key, Sjælland's occupancy-shared costs with no
self-risk, and a clear not_regulated from the Nordjylland draft.
"""

from decimal import Decimal

import pytest

from rammeaftale import Engine, NotRegulated

ENGINE = Engine.default()
CASE = {
    "driftsherre": "Driftskommunen", "driftsherre_type": "kommune", "organisering": "selvstaendigt",
    "beslutningsdato": "2021-06-01", "budget": 20000000, "aarsresultat": -4000000,
    "overfoert_resultat": -1000000,
    "omsaetning": {"Driftskommunen": {"2019": 165000, "2020": 165000},
                   "Køberkommune A": {"2019": 200000, "2020": 200000},
                   "Køberkommune B": {"2019": 135000, "2020": 135000}},
    "belaegningsdage": {"Driftskommunen": {"2020": 730}, "Køberkommune A": {"2020": 1825},
                        "Køberkommune B": {"2020": 1095}},
}


def test_syddanmark_2021_self_risk_and_turnover_key():
    out = ENGINE.evaluate("lukning", CASE, ruleset="syddanmark-2021").output
    assert out["selvrisiko"] == Decimal("1000000.00")
    assert out["fordeling"] == {"Driftskommunen": Decimal("1320000.00"), "Køberkommune A": Decimal("1600000.00"),
                                "Køberkommune B": Decimal("1080000.00")}
    assert out["driftsherre_i_alt"] == Decimal("2320000.00")


def test_sjaelland_2021_occupancy_key_without_self_risk():
    out = ENGINE.evaluate("lukning", CASE, ruleset="sjaelland-2021").output
    assert out["selvrisiko"] == Decimal("0.00")
    assert out["fordeling"] == {"Driftskommunen": Decimal("1000000.00"), "Køberkommune A": Decimal("2500000.00"),
                                "Køberkommune B": Decimal("1500000.00")}
    assert out["driftsherre_i_alt"] == Decimal("1000000.00")


def test_nordjylland_2027_draft_does_not_regulate_closures():
    case = dict(CASE, beslutningsdato="2027-06-01")
    with pytest.raises(NotRegulated) as info:
        ENGINE.evaluate("lukning", case, region="nordjylland")
    assert "2027-2028" in str(info.value)


def test_decision_date_picks_the_period():
    assert ENGINE.evaluate("lukning", CASE, region="sjaelland").ruleset == "sjaelland-2021"
