"""The dashboard in a real headless Chromium (Debian's chromium, driven by Playwright).

Sign in, filter the list, open a school, see its failing rule with evidence and its
chart, switch language, download the CSV, then run the browser speed test on
loopback and see its result on the school page. Screenshots go to
test-artifacts/browser/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.dashboard_support import BAULON, Seeded, seed

CHROMIUM = os.environ.get("SOCLE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "browser"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (os.path.exists(CHROMIUM) or shutil.which("chromium")),
                       reason=f"Debian's chromium is not installed ({CHROMIUM})"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Seeded, str]]:
    """The seeded collector served by uvicorn on a loopback port of its own."""
    import uvicorn

    seeded = seed(tmp_path)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(seeded.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield seeded, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """A fresh headless Chromium with its own profile directory."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    profile = tmp_path / "chromium-profile"
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=FLAGS, headless=True, accept_downloads=True,
            locale="fr-FR", viewport={"width": 1280, "height": 900})
        try:
            yield context
        finally:
            context.close()


def shot(page: Any, name: str) -> None:
    """Keep a screenshot as a test artefact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def french_number(text: str) -> float:
    """A figure as the French pages write it (narrow no-break space thousands, comma decimal)."""
    return float(text.replace("\u202f", "").replace("\xa0", "").replace(",", "."))


def sign_in(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/dashboard")
    assert page.url.startswith(f"{base}/login")  # not signed in yet: sent to the sign-in page
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard")


def test_sign_in_filter_open_school_language_and_csv(served: tuple[Seeded, str], browser: Any,
                                                     tmp_path: Path) -> None:
    seeded, base = served
    page = browser.new_page()
    sign_in(page, base, seeded.tokens["reader"])
    cookie = next(c for c in browser.cookies() if c["name"] == "socle_session")
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"]) == (True, "Strict", True)
    assert page.locator("h1").inner_text() == "Vue d'ensemble"
    assert page.locator("#count-not_ready").inner_text() == "1"
    assert page.locator("#count-base").inner_text() == "1"
    assert page.locator("#count-no_data").inner_text() == "2"
    shot(page, "01-overview-fr")

    page.select_option("select[name=rule]", "A1-download-floor")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**rule=A1-download-floor**")
    assert page.locator("table.schools tbody tr").count() == 1
    assert page.locator("table.schools tbody tr").first.get_attribute("data-uai") == BAULON.uai
    shot(page, "02-filtered")

    with page.expect_download() as dl:
        page.click("#export-csv")
    csv_path = tmp_path / "export.csv"
    dl.value.save_as(csv_path)
    text = csv_path.read_bytes().decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("UAI;Nom;Commune;Département;Académie;Type;Élèves;Niveau;Silencieuse;"
                               "Règles non respectées;Code commune (INSEE);Circonscription;Classes;")
    assert len(lines) == 2 and lines[1].startswith("0350122T;Ecole primaire publique les Lucioles;Baulon;")
    assert ";Non prête;non;A1-download-floor " in lines[1]  # the French reader's CSV

    page.click(f"a[href='/dashboard/schools/{BAULON.uai}']")
    page.wait_for_url(f"**/dashboard/schools/{BAULON.uai}")
    assert page.locator("#level").inner_text() == "Non prête"
    rule = page.locator("#rule-A1-download-floor")
    assert "Non respectée" in rule.locator("h3").inner_text()
    assert "source A1" in rule.inner_text()
    evidence = rule.locator("table.evidence tbody tr").first
    assert evidence.locator("td").nth(0).inner_text() == "école"
    assert evidence.locator("td").nth(2).inner_text() == "5,4 Mbit/s"  # median of 5.1 … 5.7
    assert "7 mesure(s)" in evidence.inner_text()
    chart = page.locator("#chart-download svg")
    assert chart.locator("polyline").count() == 1
    assert chart.locator("circle").count() == 7  # one point per night
    shot(page, "03-school-fr")

    page.click("#lang-en")
    page.wait_for_url(f"**/dashboard/schools/{BAULON.uai}")
    assert page.locator("#level").inner_text() == "Not ready"
    assert "Not met" in page.locator("#rule-A1-download-floor h3").inner_text()
    assert page.locator("html").get_attribute("lang") == "en"
    shot(page, "04-school-en")

    page.goto(f"{base}/dashboard/schools/{BAULON.uai}/report")
    page.emulate_media(media="print")
    assert not page.locator(".top").is_visible()  # the print stylesheet hides the navigation
    shot(page, "05-report-print")
    page.pdf(path=str(ARTIFACTS / "05-report.pdf"), format="A4")
    assert (ARTIFACTS / "05-report.pdf").read_bytes().startswith(b"%PDF")


def test_scope_limits_the_list(served: tuple[Seeded, str], browser: Any) -> None:
    seeded, base = served
    page = browser.new_page()
    sign_in(page, base, seeded.tokens["creteil"])
    rows = page.locator("table.schools tbody tr")
    assert rows.count() == 1 and rows.first.get_attribute("data-uai") == "0940176F"
    response = page.goto(f"{base}/dashboard/schools/{BAULON.uai}")
    assert response is not None and response.status == 403


def test_browser_speed_test_result_appears_on_the_school_page(served: tuple[Seeded, str],
                                                               browser: Any) -> None:
    seeded, base = served
    page = browser.new_page()
    sign_in(page, base, seeded.tokens["tech"])
    page.goto(f"{base}/dashboard/schools/{BAULON.uai}")
    page.click("#make-code")
    code = page.locator("#speedtest-code").inner_text()
    assert len(code) == 19
    link = page.locator("#speedtest-qr a").get_attribute("href")
    assert link == f"{base}/speedtest#code={code}"  # the fragment: never sent, never in a log
    if shutil.which("zbarimg"):  # the QR code on the page scans to that address
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator("#speedtest-qr svg").screenshot(path=str(ARTIFACTS / "speedtest-qr.png"))
        scanned = subprocess.run(["zbarimg", "-q", "--raw", str(ARTIFACTS / "speedtest-qr.png")],
                                 capture_output=True, text=True, timeout=60, check=False)
        assert scanned.stdout.strip() == link

    tablet = browser.new_page()
    tablet.goto(f"{base}/speedtest?seconds=2#code={code}")  # as the tablet's camera opens it
    assert tablet.input_value("#code") == code
    tablet.fill("#room", "Salle 12")
    tablet.check("input[name=connection][value=wired]")
    tablet.click("#start")
    tablet.wait_for_selector("#status[data-state]", state="attached", timeout=30000)
    shot(tablet, "06-speedtest")
    status = tablet.locator("#status")
    assert status.get_attribute("data-state") == "done", status.inner_text()
    assert "Salle 12" in tablet.locator("#status").inner_text()
    down = french_number(tablet.locator("#down").inner_text())  # written as French does: 1 234,5
    up = french_number(tablet.locator("#up").inner_text())
    assert down > 10 and up > 10  # loopback: far above any school line

    page.goto(f"{base}/dashboard/schools/{BAULON.uai}")
    row = page.locator("tr[data-room='Salle 12']")
    assert row.count() == 1
    figure = row.locator(".room-download").inner_text().split()[0]
    shown = float(figure.replace("\u202f", "").replace(",", "."))
    assert abs(shown - down) <= max(0.1, down * 0.01)
    assert "8 mesure(s)" in page.locator("#rule-A1-download-floor table.evidence").inner_text()
    shot(page, "07-school-after-speedtest")

    tablet.goto(f"{base}/speedtest?seconds=2")  # the code was spent
    tablet.fill("#code", code)
    tablet.fill("#room", "Salle 12")
    tablet.click("#start")
    tablet.wait_for_selector("#status[data-state]", state="attached", timeout=10000)
    assert tablet.locator("#status").get_attribute("data-state") == "failed"
    assert tablet.locator("#status").inner_text() == "Échec : ce code a déjà servi"


@pytest.fixture
def served_directory(tmp_path: Path) -> Iterator[tuple[Seeded, str]]:
    """The seeded collector with the real 035 and 094 directories imported, served on loopback."""
    import uvicorn

    from tests.collector.dashboard.test_map import seed_directory

    seeded = seed_directory(tmp_path)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(seeded.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield seeded, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_map_points_in_scope_open_the_school_and_nothing_leaves_the_machine(
        served_directory: tuple[Seeded, str], browser: Any) -> None:
    from tests.collector.dashboard.test_map import placed

    seeded, base = served_directory
    page = browser.new_page()
    hosts: list[str] = []
    page.on("request", lambda r: hosts.append(r.url.split("/")[2]))
    sign_in(page, base, seeded.tokens["creteil"])
    points = page.locator("#map svg.map g.schools circle")
    assert points.count() == len(placed(seeded, "094")) > 0
    assert page.locator("#map svg.map g.communes path").count() == 47  # Val-de-Marne's communes
    shot(page, "08-map-creteil")

    page.goto(f"{base}/dashboard?departement=035")
    assert page.locator("#map svg.map g.schools circle").count() == 0  # 035 is outside this reader's scope

    page.context.clear_cookies()  # sign in again, as the all-France reader
    sign_in(page, base, seeded.tokens["reader"])
    page.goto(f"{base}/dashboard?departement=035")
    points = page.locator("#map svg.map g.schools circle")
    assert points.count() == len(placed(seeded, "035")) > 500
    assert page.locator("#map svg.map circle.level-not_ready").count() == 1
    shot(page, "09-map-035")
    page.locator("#map a[data-uai='0350122T']").click()
    page.wait_for_url("**/dashboard/schools/0350122T")
    assert page.locator("#level").is_visible()
    assert set(hosts) == {base.split("/")[2]}, sorted(set(hosts))
