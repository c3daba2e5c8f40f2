"""The French dashboard speaks French: no English word left on its pages, yes/no for true/false
figures, and the school page's "why not ready" summary built from the verdict's evidence."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from fastapi.testclient import TestClient

from collector.dashboard import rule_words
from collector.dashboard.i18n import CATALOGUE, RULE_TITLES_FR, SCOPE_NAMES
from collector.dashboard.render import number
from config.profile import load_profile
from config.readiness import NOTES
from tests.conftest import ROOT
from tests.dashboard_support import BAULON, CARDROC, Seeded, seed

WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]+")
PLACEHOLDER = re.compile(r"\{\w+(:[^}]*)?\}")
COMMAND = re.compile(r"socle-collector [a-z -]+")  # a command to type stays as typed
# Words both languages write alike, or names (of products, standards, units).
SHARED = {"socle", "uai", "wi", "fi", "mbit", "ms", "db", "dbm", "go", "version", "page", "position",
          "source", "signal", "agents", "commune", "circonscription", "public", "e", "mail", "ssd", "os",
          "ram", "fr", "en", "utc", "i", "csv", "json", "tls", "ent", "educonnect", "gb", "d", "s", "j", "h"}


def english_words() -> set[str]:
    """Every word the English catalogue and the judge's own English use that French does not."""
    english: set[str] = set()
    texts = [*CATALOGUE["en"].values(), *NOTES.values(), *SCOPE_NAMES["en"].values(),
             *(m.en for m in rule_words.METRICS.values()), *rule_words.AGGREGATES["en"].values(),
             *rule_words.LEVELS["en"].values(), *rule_words.SUBJECTS["en"].values(),
             "True False None yes no school median latest share floor target sample samples measurement"]
    for text in texts:
        english |= {w.casefold() for w in WORD.findall(PLACEHOLDER.sub(" ", text))}
    french: set[str] = set()
    for text in [*CATALOGUE["fr"].values(), *rule_words.NOTES_FR.values(), *SCOPE_NAMES["fr"].values(),
                 *(m.fr for m in rule_words.METRICS.values()), *rule_words.AGGREGATES["fr"].values(),
                 *rule_words.LEVELS["fr"].values(), *RULE_TITLES_FR.values()]:
        french |= {w.casefold() for w in WORD.findall(COMMAND.sub(" ", PLACEHOLDER.sub(" ", text)))}
    return english - french - SHARED


def visible_words(page: str) -> list[str]:
    """The words a reader sees (text, titles and labels), leaving out identifiers in <code>, scripts
    and what the directory says of each school (its name, commune, e-mail)."""
    page = re.sub(r"<(script|style|code)\b[^>]*>.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'<a href="/dashboard/schools/\w+">[^<]*</a>', " ", page)  # school names
    page = re.sub(r'<(td|dd)( id="fact-email")?>[^<]*@[^<]*</\1>', " ", page)
    attrs = " ".join(re.findall(r'(?:title|aria-label|placeholder|alt)="([^"]*)"', page))
    text = re.sub(r"<[^>]+>", " ", page) + " " + attrs
    return WORD.findall(COMMAND.sub(" ", htmllib.unescape(text)))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed(tmp_path_factory.mktemp("french"))


def client(seeded: Seeded, token: str = "tech") -> TestClient:
    c = TestClient(seeded.app)
    assert c.post("/login", data={"token": seeded.tokens[token], "next": "/dashboard"},
                  follow_redirects=False).status_code == 303
    return c


PAGES = ["/dashboard", "/dashboard?level=not_ready", f"/dashboard/schools/{BAULON.uai}",
         f"/dashboard/schools/{BAULON.uai}/report", f"/dashboard/schools/{CARDROC.uai}", "/speedtest"]


@pytest.mark.parametrize("path", PAGES)
def test_no_english_word_on_the_french_pages(seeded: Seeded, path: str) -> None:
    english = english_words()
    assert {"school", "median", "download", "measurement", "true", "yes"} <= english  # the test can fail
    page = client(seeded).get(path).text
    left = sorted({w for w in visible_words(page) if w.casefold() in english})
    assert left == [], f"English on {path}: {left}"


def test_no_english_word_on_the_sign_in_page(seeded: Seeded) -> None:
    english = english_words()
    page = TestClient(seeded.app).get("/login").text
    assert sorted({w for w in visible_words(page) if w.casefold() in english}) == []


def test_the_check_finds_english_when_there_is_some(seeded: Seeded) -> None:
    page = client(seeded).get("/dashboard?lang=en").text
    left = {w.casefold() for w in visible_words(page)} & english_words()
    assert {"overview", "schools", "filter"} <= left


def test_true_false_figures_read_yes_no_and_scope_is_named(seeded: Seeded) -> None:
    c = client(seeded)
    page = c.get(f"/dashboard/schools/{CARDROC.uai}").text
    ssd = re.search(r'id="rule-E5-ssd".*?</section>', page, flags=re.S)
    assert ssd is not None
    assert "disque SSD : oui" in ssd.group(0)
    cells = re.findall(r'<td class="num">([^<]*)</td>', ssd.group(0))
    assert cells == ["oui", "oui"]  # measured, required: never 1 / True
    assert "Périmètre : toutes les écoles" in c.get("/dashboard").text
    baulon = client(seeded, "baulon").get("/dashboard").text
    assert "Périmètre : commune 35016" in baulon


def test_why_not_ready_names_each_failing_rule_with_its_figures(seeded: Seeded) -> None:
    page = client(seeded).get(f"/dashboard/schools/{BAULON.uai}").text
    why = re.search(r'<p class="why level-not_ready" id="why-not-ready">([^<]*)</p>', page)
    assert why is not None
    text = htmllib.unescape(why.group(1))
    assert text.startswith("Pas prête : débit descendant 5,4 Mbit/s pour 16 Mbit/s requis (A1, A2) ; "
                           "débit montant 1,5 Mbit/s pour 2 Mbit/s requis (A2) ; ")
    assert "mémoire 3,8 Go pour 7,5 Go requis, poste pc-cm1#" in text
    assert "signal Wi-Fi ≥ -67 dBm dans 0 % des mesures pour 90 % requis, salle CM1 (W6)" in text
    assert text.endswith("Cible non atteinte : débit descendant 5,4 Mbit/s pour 30 Mbit/s requis (A3, A6).")
    report = client(seeded).get(f"/dashboard/schools/{BAULON.uai}/report").text
    assert why.group(0) in report
    cardroc = client(seeded).get(f"/dashboard/schools/{CARDROC.uai}").text  # base met, target not
    assert ('<p class="why level-base" id="why-not-ready">Cible non atteinte : débit descendant 24 Mbit/s '
            'pour 30 Mbit/s requis (A3).</p>') in cardroc


def test_every_judge_note_has_its_french_form() -> None:
    assert set(rule_words.NOTES_FR) == set(NOTES)
    for key, template in NOTES.items():
        fields = set(re.findall(r"\{(\w+)", template))
        assert set(re.findall(r"\{(\w+)", rule_words.NOTES_FR[key])) == fields, key
    made = NOTES["no_measurement"].format(metric="wifi.snr_db", days=30) + "; " + NOTES["scaled"].format(
        per=0.05, people=420, scaled=21.0)
    assert rule_words.note(made, "fr") == (
        "aucune mesure « rapport signal/bruit » sur les 30 derniers jours ; "
        "seuil proportionnel : 0.05 × 420 personnes = 21")
    assert rule_words.note("something new", "fr") == "something new"


def test_every_metric_of_the_default_profile_has_a_french_name() -> None:
    profile = load_profile(ROOT / "config" / "profiles" / "socle-default.toml")
    missing = sorted({r.metric for r in profile.rules} - set(rule_words.METRICS))
    assert missing == []
    fr = {r.id: rule_words.expression for r in profile.rules}
    assert fr and number(1234.5, "fr") == "1\u202f234,5"
