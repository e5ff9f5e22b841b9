"""The HTTP service in-process (Starlette's TestClient): every endpoint, the error mapping, OpenAPI."""

from __future__ import annotations

import json
import warnings

import jsonschema
import pytest

pytest.importorskip("starlette")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")          # Starlette suggests httpx2 for its TestClient
    from starlette.testclient import TestClient

from rammeaftale import Engine, __version__
from rammeaftale.model.catalogue import catalogue
from rammeaftale.service import ServiceLimits, create_app
from rammeaftale.service.app import ACCEPTS_READINGS
from rammeaftale.tools.batch import Formatter, read_items, run

from .service_helpers import LUKNING, OPSIGELSE

ENGINE = Engine.default()


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(ENGINE), raise_server_exceptions=False)


def test_health_rulesets_questions(client):
    assert client.get("/healthz").json()["status"] == "ok"
    items = client.get("/v1/rulesets").json()["rulesets"]
    sd = next(r for r in items if r["id"] == "syddanmark-2021")
    assert sd["region"] == "syddanmark" and sd["gyldig_fra"] == "2021-01-01" and sd["status"] == "udkast"
    assert "opsigelse" in sd["spoergsmaal"]
    names = [q["question"] for q in client.get("/v1/questions").json()["questions"]]
    assert names == list(catalogue())
    doc = client.get("/v1/questions/lukning").json()
    assert doc["input"] == catalogue()["lukning"].json_schema()
    assert doc["output"] == catalogue()["lukning"].output_json_schema()
    assert doc["result"] == catalogue()["lukning"].result_json_schema()
    assert client.get("/v1/questions/nej").status_code == 404


def test_evaluate_is_exactly_the_librarys_answer(client):
    for body, kwargs in [({"ruleset": "syddanmark-2021"}, {"ruleset": "syddanmark-2021"}),
                         ({"region": "syddanmark", "dato": "2021-03-01"}, {"region": "syddanmark", "dato": "2021-03-01"}),
                         ({"region": "syddanmark"}, {"region": "syddanmark"})]:
        got = client.post("/v1/evaluate", json={"question": "opsigelse", "case": OPSIGELSE, **body})
        assert got.status_code == 200
        assert got.json() == ENGINE.evaluate("opsigelse", OPSIGELSE, **kwargs).to_dict()
        jsonschema.validate(got.json(), catalogue()["opsigelse"].result_json_schema())
    got = client.post("/v1/evaluate", json={"question": "lukning", "case": LUKNING, "region": "syddanmark"}).json()
    assert got == ENGINE.evaluate("lukning", LUKNING, region="syddanmark").to_dict()
    assert got["output"]["akkumuleret_resultat"] == "-1320000.00"
    untraced = client.post("/v1/evaluate", json={"question": "opsigelse", "case": OPSIGELSE,
                                                 "ruleset": "syddanmark-2021", "trace": False}).json()
    assert untraced["trace"] == [] and untraced["output"] == got_output(client)


def got_output(client):
    return client.post("/v1/evaluate", json={"question": "opsigelse", "case": OPSIGELSE,
                                             "ruleset": "syddanmark-2021"}).json()["output"]


@pytest.mark.parametrize("body, status, kind, path", [
    (b"{not json", 400, "invalid_json", None),
    (b"[1, 2]", 400, "invalid_json", None),
    (b'{"a": 1, "a": 2}', 400, "invalid_json", None),
    (b"\xff\xfe", 400, "invalid_json", None),
    (json.dumps({"question": "nej", "case": {}, "ruleset": "syddanmark-2021"}).encode(), 422, "invalid_case", "question"),
    (json.dumps({"question": "opsigelse", "case": {}, "ruleset": "syddanmark-2021"}).encode(), 422, "invalid_case", "paragraf"),
    (json.dumps({"question": "opsigelse", "case": [], "ruleset": "syddanmark-2021"}).encode(), 422, "invalid_case", "case"),
    (json.dumps({"question": "opsigelse", "case": OPSIGELSE, "rulset": "x"}).encode(), 422, "invalid_case", "rulset"),
    (json.dumps({"question": "opsigelse", "case": OPSIGELSE}).encode(), 422, "invalid_case", "ruleset"),
    (json.dumps({"question": "opsigelse", "case": OPSIGELSE, "ruleset": "fyn-1970"}).encode(), 404, "no_ruleset", None),
    (json.dumps({"question": "opsigelse", "case": OPSIGELSE, "region": "fyn", "dato": "2021-01-01"}).encode(),
     404, "no_ruleset", None),
    (json.dumps({"question": "takstloft", "case": {"tilbudstype": "herberg", "takst": 1},
                 "ruleset": "sjaelland-2021"}).encode(), 422, "not_regulated", None),
])
def test_errors_are_the_librarys_with_a_status(client, body, status, kind, path):
    got = client.post("/v1/evaluate", content=body, headers={"content-type": "application/json"})
    assert got.status_code == status, got.text
    error = got.json()["error"]
    assert error["kind"] == kind and error["message"]
    if path:
        assert error["path"] == path
    if kind == "not_regulated":
        assert "begrundelse" in error and "kilde" in error


def test_readings_are_passed_on_only_when_the_engine_takes_them(client):
    got = client.post("/v1/evaluate", json={"question": "opsigelse", "case": OPSIGELSE, "ruleset": "syddanmark-2021",
                                            "fortolkninger": {}})
    if ACCEPTS_READINGS:
        assert got.status_code in (200, 422)
    else:
        assert got.status_code == 422 and got.json()["error"]["path"] == "fortolkninger"


def test_limits_body_size_and_time():
    small = TestClient(create_app(ENGINE, limits=ServiceLimits(max_body=1000, max_batch_body=2000)))
    got = small.post("/v1/evaluate", content=b'{"question": "' + b"x" * 5000 + b'"}')
    assert got.status_code == 413 and got.json()["error"]["kind"] == "too_large"
    rows = "".join(json.dumps({"id": i, "ruleset": "syddanmark-2021", "case": OPSIGELSE}) + "\n" for i in range(30))

    def chunks():
        for i in range(0, len(rows), 500):
            yield rows[i:i + 500].encode()
    got = small.post("/v1/batch?question=opsigelse", content=chunks())       # no content-length: counted as it streams
    lines = [json.loads(line) for line in got.text.splitlines()]
    assert lines[-1]["error"]["kind"] == "too_large" and len(lines) < 30
    slow = TestClient(create_app(ENGINE, limits=ServiceLimits(request_seconds=0.000001)))
    got = slow.post("/v1/evaluate", json={"question": "opsigelse", "case": OPSIGELSE, "ruleset": "syddanmark-2021"})
    assert got.status_code == 503 and got.json()["error"]["kind"] == "timeout"


def test_unknown_routes_and_methods_are_json_errors(client):
    assert client.get("/v1/nope").json()["error"]["kind"] == "not_found"
    got = client.get("/v1/evaluate")
    assert got.status_code == 405 and got.json()["error"]["kind"] == "method_not_allowed"


def test_compare_is_the_librarys_comparison(client):
    got = client.post("/v1/compare", json={"question": "lukning", "case": LUKNING,
                                           "rulesets": ["syddanmark-2021", "syddanmark-2025", "nordjylland-2027"]})
    assert got.status_code == 200
    assert got.json() == ENGINE.compare("lukning", LUKNING,
                                        rulesets=["syddanmark-2021", "syddanmark-2025", "nordjylland-2027"]).to_dict()
    assert client.post("/v1/compare", json={"question": "lukning", "case": {"x": 1}}).status_code == 422


def test_batch_lines_are_the_cli_batchs(client):
    rows = [{"id": 1, "ruleset": "syddanmark-2021", "case": OPSIGELSE},
            {"id": "b", "region": "syddanmark", "dato": "2025-02-01", "case": OPSIGELSE},
            {"id": 3, "ruleset": "sjaelland-2021", "case": {"paragraf": "nej"}}]
    text = "\n".join(json.dumps(r) for r in rows) + "\nikke json\n\n" + json.dumps({"id": 5, "case": {}}) + "\n"
    got = client.post("/v1/batch?question=opsigelse", content=text.encode())
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/x-ndjson")
    import io
    formatter = Formatter("opsigelse", csv_output=False)
    expected = "".join(formatter.format(line) for line in
                       run("opsigelse", read_items(io.BytesIO(text.encode()), False, "opsigelse"), engine=ENGINE))
    assert got.text == expected
    lines = [json.loads(x) for x in got.text.splitlines()]
    assert [x["id"] for x in lines][:4] == [1, "b", 3, None] and "error" in lines[4]
    assert "output" in lines[0] and lines[3]["error"]["line"] == 4
    bad = client.post("/v1/batch?question=nej", content=b"{}")
    assert bad.status_code == 422 and bad.json()["error"]["path"] == "question"


def test_openapi_document_validates_and_covers_every_question(client):
    from openapi_spec_validator import validate
    doc = client.get("/openapi.json").json()
    validate(doc)
    schemas = doc["components"]["schemas"]
    for name in catalogue():
        assert {f"Sag_{name}", f"Svar_{name}", f"Evaluer_{name}"} <= set(schemas)
    assert set(doc["paths"]) >= {"/healthz", "/v1/rulesets", "/v1/questions", "/v1/questions/{question}",
                                 "/v1/evaluate", "/v1/compare", "/v1/batch"}
    assert doc["info"]["version"] == __version__
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 200


def test_page_without_javascript(client):
    start = client.get("/")
    assert start.status_code == 200 and 'lang="da"' in start.text and "<script" not in start.text
    form = client.get("/?spoergsmaal=lukning").text
    assert 'name="omsaetning"' in form and "Årsresultat" in form and "Overført resultat" in form
    answer = client.post("/", data={
        "spoergsmaal": "lukning", "handling": "svar", "region": "syddanmark", "dato": "",
        "driftsherre": "Vejle", "driftsherre_type": "kommune", "organisering": "selvstaendigt",
        "beslutningsdato": "2021-05-01", "budget": "10.000.000,00", "aarsresultat": "-1.320.000,00",
        "omsaetning": "Vejle; 2019; 4.000.000,00\nVejle; 2020; 4200000\nKolding; 2019; 3000000\nKolding; 2020; 2800000"})
    assert answer.status_code == 200
    assert "-1.320.000,00 kr." in answer.text and "syddanmark-2021" in answer.text
    assert "Sådan er svaret fundet" in answer.text and "Kilde:" in answer.text
    assert 'href="/rapport/syddanmark-2021"' in answer.text and "udkast" in answer.text
    compared = client.post("/", data={"spoergsmaal": "opsigelse", "handling": "sammenlign", **OPSIGELSE})
    assert "Samme sag under hvert regelsæt" in compared.text and "ikke reguleret" in compared.text
    error = client.post("/", data={"spoergsmaal": "opsigelse", "handling": "svar", "region": "syddanmark",
                                   "opsigelsesdato": "2021-01-14"})
    assert error.status_code == 422 and "Fejl i sagen" in error.text and 'felt fejl' in error.text
    report = client.get("/rapport/syddanmark-2025")
    assert report.status_code == 200 and "<h1>" in report.text
    assert client.get("/rapport/fyn-1970").status_code == 404


def test_danish_numbers_and_maps_from_the_form():
    from rammeaftale.service.pages import case_from_form
    case = case_from_form("lukning", {"budget": "1.320.000,50", "omsaetning": "Vejle; 2019; 1.000,00",
                                      "fortsaetter_i_anden_form": "ja", "aarsag": ""})
    assert case == {"budget": "1320000.50", "omsaetning": {"Vejle": {"2019": "1000.00"}},
                    "fortsaetter_i_anden_form": True}
