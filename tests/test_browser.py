"""Neo4j Browser, driven in a real headless Chromium: log in, load kgrec's style, run the
recommendation-with-explanation query for one user, and check the drawn graph.

Uses Debian's ``chromium`` + ``chromium-driver`` (test tools cannot download a browser here);
`make test` installs them when it can. The screenshot lands in ``test-artifacts/``.
"""

from __future__ import annotations

import shutil
import time
import urllib.parse
from importlib import resources
from pathlib import Path

import pytest

from kgrec import cypher
from kgrec.serving import library

pytestmark = [pytest.mark.neo4j, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture
def chrome():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Debian's chromium and chromium-driver are not installed (`make test` installs them as root)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(15)
    # Typing the explanation query into Browser's editor is one command to chromedriver; on a
    # loaded machine it took longer than the client's default 120 s.
    driver.command_executor.client_config.timeout = 600
    yield driver
    driver.quit()


def _one_line(text: str) -> str:
    """Browser's editor runs on Enter, so commands are typed as one line (comments dropped)."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("//"))


def _run(chrome, command: str) -> None:
    from selenium.webdriver.common.by import By

    frames_before = len(chrome.find_elements(By.CSS_SELECTOR, "article[data-testid=frame]"))
    chrome.find_element(By.CSS_SELECTOR, "[data-testid=activeEditor] textarea").send_keys(command)
    chrome.find_element(By.CSS_SELECTOR, "[data-testid=editor-Run]").click()
    deadline = time.monotonic() + 20
    while len(chrome.find_elements(By.CSS_SELECTOR, "article[data-testid=frame]")) <= frames_before:
        assert time.monotonic() < deadline, f"Browser did not run {command[:60]!r}"
        time.sleep(0.2)


def test_browser_draws_recommendations_with_their_explanation_paths(chrome, movie_graph, neo4j_layout, neo4j_settings):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    if neo4j_layout is None:
        pytest.skip("Neo4j Browser test needs kgrec's local server")
    driver, database = movie_graph
    expected = library.recommendations(driver, database, "u1", k=5, paths=1)
    explained = [r for r in expected if r.explanations]
    assert explained, "the fixture graph should give u1 at least one explained recommendation"

    dbms = urllib.parse.quote(f"bolt://neo4j@127.0.0.1:{neo4j_layout.bolt_port}")
    chrome.get(f"http://127.0.0.1:{neo4j_layout.http_port}/browser/?dbms={dbms}")
    # Submit the login form with Enter: the connect button can sit under the password field while
    # the form is still laying out, and a click then lands on the field instead (seen in CI).
    chrome.find_element(By.CSS_SELECTOR, "[data-testid=password]").send_keys(neo4j_settings.password + Keys.ENTER)
    chrome.find_element(By.CSS_SELECTOR, "[data-testid=activeEditor] textarea")
    time.sleep(1)

    style = (resources.files("kgrec") / "browser" / "kgrec.grass").read_text()
    _run(chrome, ":style " + " ".join(style.split()))
    _run(chrome, ":params {user_id: 'u1', item_ids: [], k: 5, paths: 1, draw: true}")
    _run(chrome, _one_line(cypher.load("explain")))

    deadline = time.monotonic() + 30
    captions: set[str] = set()
    wanted = {"u1"} | {r.title for r in explained} | {n.name for r in explained for n in r.explanations[0].nodes}
    while time.monotonic() < deadline and not wanted <= captions:
        time.sleep(0.5)
        # A long caption wraps over several <text> lines; join the lines of each node.
        captions = {" ".join(t.text for t in node.find_elements(By.CSS_SELECTOR, "text")).strip()
                    for node in chrome.find_elements(By.CSS_SELECTOR, "svg g.node")}
    ARTIFACTS.mkdir(exist_ok=True)
    chrome.save_screenshot(str(ARTIFACTS / "browser-explanation.png"))
    assert wanted <= captions, f"missing from the drawing: {wanted - captions}"
    # kgrec's style is applied: items are drawn in the Item colour.
    fills = {c.value_of_css_property("fill") for c in chrome.find_elements(By.CSS_SELECTOR, "svg g.node circle")}
    assert "rgb(247, 151, 103)" in fills, fills  # #F79767
