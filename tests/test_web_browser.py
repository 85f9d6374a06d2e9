"""The web page in a real browser: Debian's chromium, driven by selenium through Debian's chromium-driver (`.ci/run`
installs both when missing). Signs in, acknowledges a task, marks a change not relevant, builds an agenda of three
items, reorders them, downloads the invite and parses it. With WATCHER_SCREENSHOTS=DIR (`make screenshots`) it
leaves pictures of the change list, a change page and the agenda builder there."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from .conftest import free_port
from .test_web import PASSWORD, site  # noqa: F401  (the fixture: a real store with three alerted changes)

CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser(tmp_path):
    if not (CHROMEDRIVER and CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(".ci/run installs Debian's chromium and chromium-driver; they are missing")
        pytest.skip("needs Debian's chromium and chromium-driver (`.ci/run` installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,1000", "--disable-background-networking", "--no-first-run"):
        options.add_argument(flag)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.downloads = downloads
    yield driver
    driver.quit()


@pytest.fixture
def served(site):  # noqa: F811
    import waitress.server

    web, app, clock = site
    port = free_port()
    server = waitress.server.create_server(web, host="127.0.0.1", port=port, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://localhost:{port}", app
    server.close()


def test_a_coordinators_and_an_attorneys_morning(browser, served):
    from icalendar import Calendar
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.ui import WebDriverWait

    base, app = served
    shots = Path(os.environ["WATCHER_SCREENSHOTS"]) if os.environ.get("WATCHER_SCREENSHOTS") else None
    wait = WebDriverWait(browser, 20)

    def sign_in(name: str) -> None:
        browser.delete_all_cookies()
        browser.get(f"{base}/login")
        browser.find_element(By.NAME, "name").send_keys(name)
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
        wait.until(lambda d: d.current_url.endswith("/changes"))

    # An attorney: the change list, a change page, "not relevant", and the task acknowledged.
    sign_in("ana")
    rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) >= 3
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(shots / "web-changes.png"))
    browser.find_element(By.PARTIAL_LINK_TEXT, "H-1B Final Rule").click()
    wait.until(lambda d: "/changes/" in d.current_url)
    assert "<script>" in browser.find_element(By.TAG_NAME, "h1").text  # shown as text, never run
    if shots:
        browser.save_screenshot(str(shots / "web-change.png"))
    browser.find_element(By.XPATH, "//button[text()='Not relevant to H-1B']").click()
    wait.until(lambda d: "H-1B: not relevant" in d.page_source)
    assert [(f.case_type, f.relevant) for f in app.store.feedback.labels()] == [("H-1B", False)]
    browser.get(f"{base}/tasks")
    button = browser.find_element(By.XPATH, "//button[text()='Acknowledge']")
    button.click()
    wait.until(staleness_of(button))  # the page reloaded after the POST
    assert [t.status for t in app.store.web.tasks()] == ["acknowledged"]

    # A coordinator: an agenda of the week's three alerted changes, reordered, and its invite downloaded.
    sign_in("cole")
    browser.get(f"{base}/agendas")
    browser.find_element(By.NAME, "start").clear()
    browser.execute_script("document.querySelector('input[name=start]').value = '2026-11-21';"
                           "document.querySelector('input[name=end]').value = '2026-11-27';")
    browser.find_element(By.XPATH, "//button[text()='Propose an agenda']").click()
    wait.until(lambda d: d.find_elements(By.ID, "builder"))
    boxes = browser.find_elements(By.CSS_SELECTOR, "input[type=checkbox]:checked")
    ids = [b.get_attribute("name").removeprefix("include_") for b in boxes]
    assert len(ids) == 3
    for position, change_id in enumerate(reversed(ids), start=1):
        field = browser.find_element(By.NAME, f"position_{change_id}")
        field.clear()
        field.send_keys(str(position))
    browser.find_element(By.NAME, f"presenter_{ids[0]}").send_keys("Ana")
    save = browser.find_element(By.XPATH, "//button[text()='Save']")
    save.click()
    wait.until(staleness_of(save))
    order = [b.get_attribute("name").removeprefix("include_")
             for b in browser.find_elements(By.CSS_SELECTOR, "input[type=checkbox]:checked")]
    assert order == list(reversed(ids))
    if shots:
        browser.save_screenshot(str(shots / "web-agenda-builder.png"))
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow",
                                                         "downloadPath": str(browser.downloads)})
    browser.find_element(By.ID, "download-ics").click()
    wait.until(lambda d: [p for p in browser.downloads.iterdir() if p.suffix == ".ics"])
    [invite] = [p for p in browser.downloads.iterdir() if p.suffix == ".ics"]
    [event] = list(Calendar.from_ical(invite.read_bytes()).walk("VEVENT"))
    assert event["dtstart"].params["TZID"] == "America/New_York"
    titles = [app.store.web.record(int(i)).row.title for i in order]
    description = str(event["description"])
    assert [description.index(t) for t in titles] == sorted(description.index(t) for t in titles)
    assert "Presenter: Ana" in description
