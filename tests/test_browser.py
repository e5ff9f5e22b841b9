"""The caseworkers' page in a real browser: Debian's chromium through chromium-driver (Selenium).

Fills the form for a closure (lukning), submits, checks the answer in Danish
(amounts as ``1.320.000,00 kr.``), the explanation with citations, the link to
the ruleset's report, then compares across rulesets, and keeps screenshots in
``build/skaermbilleder/``.  Runs in CI: ``.ci/run`` installs chromium and
chromium-driver when they are missing; elsewhere without them it is skipped.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

webdriver = pytest.importorskip("selenium.webdriver")
pytest.importorskip("uvicorn")

from selenium.webdriver.chrome.service import Service as DriverService   # noqa: E402
from selenium.webdriver.common.by import By                                # noqa: E402
from selenium.webdriver.support import expected_conditions as EC           # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait            # noqa: E402

from .service_helpers import ROOT, live_server                             # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SHOTS = ROOT / "build" / "skaermbilleder"


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        if os.environ.get("CI"):
            pytest.fail("chromium og chromium-driver mangler på CI-maskinen (.ci/run installerer dem)")
        pytest.skip("chromium/chromium-driver er ikke installeret (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1200,2400", "--lang=da"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=DriverService(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def server():
    with live_server() as url:
        yield url


def _text(driver, element_id: str) -> str:
    """The text of ``element_id`` once the page that has it has loaded."""
    WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, element_id)))
    return str(driver.find_element(By.ID, element_id).text)


def _fill(driver, name: str, text: str) -> None:
    field = driver.find_element(By.NAME, name)
    field.clear()
    field.send_keys(text)


def test_a_caseworker_fills_the_form_and_reads_the_answer(browser, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.get(server + "/")
    Select(browser.find_element(By.ID, "spoergsmaal-valg")).select_by_value("lukning")
    browser.find_element(By.ID, "vaelg").click()
    _text(browser, "sag")
    assert "Lukkeregnskab" in browser.find_element(By.TAG_NAME, "h2").text
    Select(browser.find_element(By.ID, "region")).select_by_value("syddanmark")
    _fill(browser, "driftsherre", "Vejle")
    Select(browser.find_element(By.NAME, "driftsherre_type")).select_by_value("kommune")
    Select(browser.find_element(By.NAME, "organisering")).select_by_value("selvstaendigt")
    browser.execute_script("document.getElementsByName('beslutningsdato')[0].value = '2021-05-01'")
    _fill(browser, "budget", "10.000.000,00")
    _fill(browser, "aarsresultat", "-1.320.000,00")
    _fill(browser, "omsaetning", "Vejle; 2019; 4.000.000,00\nVejle; 2020; 4.200.000,00\n"
                                 "Kolding; 2019; 3.000.000,00\nKolding; 2020; 2.800.000,00")
    browser.find_element(By.ID, "beregn").click()
    answer = _text(browser, "svar")
    assert "-1.320.000,00 kr." in answer
    assert "syddanmark-2021" in browser.find_element(By.ID, "status").text
    assert "udkast" in browser.find_element(By.ID, "status").text.lower()
    steps = browser.find_element(By.ID, "forklaring").text
    assert "Kilde:" in steps
    href = browser.find_element(By.LINK_TEXT, "Se regelsættets rapport").get_attribute("href")
    assert href.endswith("/rapport/syddanmark-2021")
    shot = SHOTS / "svar.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000

    browser.find_element(By.ID, "sammenlign").click()
    table = _text(browser, "sammenligning")
    assert "syddanmark-2025" in table and "ikke reguleret" in table
    assert browser.save_screenshot(str(SHOTS / "sammenligning.png"))

    browser.get(href)
    assert "syddanmark-2021" in browser.page_source
