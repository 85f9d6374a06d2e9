"""The web page at the framework level (Flask's test client over the real app, a real SQLite file with changes
stored by the real pipeline): every route needs a session, roles hold, CSRF is required, input is escaped."""

from __future__ import annotations

import csv
import io
import re

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from watcher import app as app_module
from watcher.cli import main
from watcher.pipeline import run_source
from watcher.sources.rss import RssSource
from watcher.web import create_app

from .clock import Clock
from .feeds import rss, uscis_items
from .loopback import conditional_feed

PASSWORD = "correct horse battery"
GET_ROUTES = ["/", "/changes", "/changes/1", "/tasks", "/tasks/audit.csv", "/health", "/agendas", "/agendas/1",
              "/agendas/1/agenda.ics", "/feedback/some-token"]
POST_ROUTES = ["/changes/1/feedback", "/tasks/1", "/agendas", "/agendas/1", "/agendas/1/send", "/calendars",
               "/caseload", "/outbox/1/resend", "/feedback/some-token"]


@pytest.fixture
def site(server, make_config):
    items = uscis_items()
    # Baseline without three items; the second fetch brings them: three alerts (H-1B, EB-5, I-765/TPS).
    server.routes["/feed"] = conditional_feed(rss([i for k, i in enumerate(items) if k not in (0, 5, 7)]), '"1"')
    directory = make_config([("uscis-alerts", server.url("/feed"))])
    clock = Clock()
    app = app_module.build_app(app_module.load_config(directory), kinds={"rss": RssSource}, environ={}, now=clock)
    run_source(app.context, app.sources[0])
    hostile = dict(items[0], title="<script>alert(1)</script> H-1B Final Rule Effective Immediately")
    server.routes["/feed"] = conditional_feed(rss([hostile] + items[1:]), '"2"')
    clock.advance(minutes=31)
    run_source(app.context, app.sources[0])
    with app.store.transaction():
        for name, role in (("ana", "attorney"), ("cole", "coordinator"), ("ada", "admin")):
            app.store.web.add_user(name, role, PASSWORD, clock())
    web = create_app(app.config, app.store, now=clock)
    web.testing = True
    yield web, app, clock
    app.close()


class HttpsClient(FlaskClient):
    """Requests over https, as behind the firm's proxy: the session cookie is Secure and goes nowhere else."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("base_url", "https://watcher.firm.example")
        return super().open(*args, **kwargs)


def client(web):
    web.test_client_class = HttpsClient
    return web.test_client()


def csrf_of(response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def signed_in(web, name: str):
    browser = client(web)
    token = csrf_of(browser.get("/login"))
    response = browser.post("/login", data={"name": name, "password": PASSWORD, "csrf": token, "next": "/changes"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/changes")
    return browser, csrf_of(browser.get("/changes"))


def hostile_change_id(app) -> int:
    return app.store.db.execute("SELECT id FROM changes WHERE title LIKE '<script>%'").fetchone()[0]


@pytest.mark.parametrize("path", GET_ROUTES)
def test_every_page_needs_a_session(site, path):
    web, _, _ = site
    response = client(web).get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("path", POST_ROUTES)
def test_every_form_needs_a_csrf_token_and_then_a_session(site, path):
    web, _, _ = site
    anonymous = client(web)
    assert anonymous.post(path, data={"verdict": "relevant"}).status_code == 400  # no token
    token = csrf_of(anonymous.get("/login"))
    response = anonymous.post(path, data={"csrf": token, "verdict": "relevant"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_session_cookie_flags_and_security_headers(site):
    web, _, _ = site
    browser = client(web)
    token = csrf_of(browser.get("/login"))
    response = browser.post("/login", data={"name": "ana", "password": PASSWORD, "csrf": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Strict" in cookie
    page = browser.get("/changes")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("name, path, method, allowed", [
    ("ana", "/health", "get", False), ("cole", "/health", "get", False), ("ada", "/health", "get", True),
    ("cole", "/changes/{id}/feedback", "post", False), ("ana", "/changes/{id}/feedback", "post", True),
])
def test_roles(site, name, path, method, allowed):
    web, app, _ = site
    browser, token = signed_in(web, name)
    path = path.format(id=hostile_change_id(app))
    if method == "get":
        status = browser.get(path).status_code
    else:
        status = browser.post(path, data={"csrf": token, "case_type": "H-1B", "verdict": "not_relevant"}).status_code
    assert (status in (200, 302)) is allowed and (status == 403) is (not allowed)


def test_a_wrong_csrf_token_changes_nothing(site):
    web, app, _ = site
    browser, token = signed_in(web, "ana")
    change_id = hostile_change_id(app)
    response = browser.post(f"/changes/{change_id}/feedback",
                            data={"csrf": token[:-2] + "xx", "case_type": "H-1B", "verdict": "not_relevant"})
    assert response.status_code == 400 and app.store.db["feedback"].count == 0


def test_feedback_is_stored_with_who_gave_it_and_shown(site):
    web, app, clock = site
    browser, token = signed_in(web, "ana")
    change_id = hostile_change_id(app)
    assert browser.post(f"/changes/{change_id}/feedback",
                        data={"csrf": token, "case_type": "H-1B", "verdict": "not_relevant"}).status_code == 302
    assert [(f.case_type, f.relevant) for f in app.store.feedback.labels()] == [("H-1B", False)]
    page = browser.get(f"/changes/{change_id}").get_data(as_text=True)
    assert "H-1B: not relevant" in page and "(ana," in page
    bad = browser.post(f"/changes/{change_id}/feedback", data={"csrf": token, "case_type": "X'; DROP", "verdict": "x"})
    assert bad.status_code == 400


def test_html_in_stored_text_is_escaped_everywhere(site):
    web, app, _ = site
    browser, _ = signed_in(web, "ada")
    for path in ("/changes", f"/changes/{hostile_change_id(app)}", "/tasks?status=all"):
        page = browser.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path


@pytest.mark.parametrize("query", ["' OR 1=1 --", 'title:* NEAR("a" "b")', '"unbalanced', "random selection",
                                   "<img src=x onerror=alert(1)>", "%", "*"])
def test_search_input_is_data_not_syntax(site, query):
    web, _, _ = site
    browser, _ = signed_in(web, "ana")
    response = browser.get("/changes", query_string={"q": query, "type": "'; --", "urgency": "URGENT'"})
    assert response.status_code == 200
    assert "<img src=x" not in response.get_data(as_text=True)


def test_search_finds_by_words(site):
    web, _, _ = site
    browser, _ = signed_in(web, "ana")
    page = browser.get("/changes", query_string={"q": "triennial revenue"}).get_data(as_text=True)
    assert "Triennial Investment" in page and "Tools Outage" not in page


def test_tasks_acknowledged_with_an_audit_trail_and_coordinators_re_date(site):
    web, app, clock = site
    [task] = app.store.web.tasks()
    attorney, token = signed_in(web, "ana")
    assert attorney.post(f"/tasks/{task.id}", data={"csrf": token, "action": "acknowledge"}).status_code == 302
    assert attorney.post(f"/tasks/{task.id}", data={"csrf": token, "action": "due", "value": "2027-01-01"}
                         ).status_code == 403
    coordinator, token = signed_in(web, "cole")
    assert coordinator.post(f"/tasks/{task.id}", data={"csrf": token, "action": "due", "value": "2027-01-01"}
                            ).status_code == 302
    assert coordinator.post(f"/tasks/{task.id}", data={"csrf": token, "action": "due", "value": "soon"}
                            ).status_code == 400
    assert coordinator.post(f"/tasks/{task.id}", data={"csrf": token, "action": "assign", "value": "=HYPERLINK(1)"}
                            ).status_code == 302
    [row] = app.store.web.tasks(status=None)
    assert (row.status, row.due) == ("acknowledged", "2027-01-01")
    audit = list(csv.reader(io.StringIO(coordinator.get("/tasks/audit.csv").get_data(as_text=True))))
    assert [(r[2], r[3]) for r in audit[1:]] == [("ana", "status"), ("cole", "due"), ("cole", "team")]
    assert audit[1][4] == "open -> acknowledged" and not audit[3][4].startswith("=")  # no formula reaches a sheet


def test_sign_in_is_rate_limited(site):
    web, _, _ = site
    browser = client(web)
    token = csrf_of(browser.get("/login"))
    for _ in range(5):
        assert browser.post("/login", data={"name": "ana", "password": "wrong", "csrf": token}).status_code == 401
    assert browser.post("/login", data={"name": "ana", "password": PASSWORD, "csrf": token}).status_code == 429


def test_an_idle_session_signs_out(site):
    web, _, clock = site
    browser, _ = signed_in(web, "ana")
    clock.advance(minutes=29)
    assert browser.get("/changes").status_code == 200
    clock.advance(minutes=31)
    assert browser.get("/changes").status_code == 302


def test_no_open_redirect_after_sign_in(site):
    web, _, _ = site
    browser = client(web)
    token = csrf_of(browser.get("/login"))
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        response = browser.post("/login", data={"name": "ana", "password": PASSWORD, "csrf": token, "next": target})
        assert response.headers["Location"] in ("/", "https://watcher.firm.example/"), target
        token = csrf_of(browser.get("/login"))


def test_a_trusted_proxy_header_signs_in_known_users_only(server, make_config):
    directory = make_config([("a", server.url("/f"))], '\n[web]\ntrusted_proxy_header = "X-Remote-User"\n')
    app = app_module.build_app(app_module.load_config(directory), kinds={"rss": RssSource}, environ={}, now=Clock())
    with app.store.transaction():
        app.store.web.add_user("ana", "attorney", PASSWORD, Clock()())
    web = create_app(app.config, app.store, now=Clock())
    assert client(web).get("/changes", headers={"X-Remote-User": "ana"}).status_code == 200
    assert client(web).get("/changes", headers={"X-Remote-User": "mallory"}).status_code == 302
    assert client(web).get("/health", headers={"X-Remote-User": "ana"}).status_code == 403
    app.close()


def test_users_cli(make_config, server):
    directory = make_config([("a", server.url("/f"))])
    add = ["--config", str(directory), "users", "add", "ana", "--role", "attorney", "--password-stdin"]
    assert CliRunner().invoke(main, add, input="short\n").exit_code == 2
    ok = CliRunner().invoke(main, add, input=PASSWORD + "\n")
    assert ok.exit_code == 0 and "user ana added (attorney)" in ok.output
    again = CliRunner().invoke(main, add, input=PASSWORD + "\n")
    assert again.exit_code == 2 and "exists already" in again.output
    assert "ana" in CliRunner().invoke(main, ["--config", str(directory), "users", "list"]).output
    stored = app_module.build_app(app_module.load_config(directory), environ={}).store
    [hashed] = [r[0] for r in stored.db.execute("SELECT password_hash FROM users")]
    assert hashed.startswith("scrypt$16384$8$1$") and PASSWORD not in hashed
    stored.close()


def test_agenda_builder_proposes_saves_reorders_and_downloads(site):
    from icalendar import Calendar
    web, app, clock = site
    coordinator, token = signed_in(web, "cole")
    response = coordinator.post("/agendas", data={"csrf": token, "start": "2026-11-21", "end": "2026-11-27"})
    assert response.status_code == 302
    page = coordinator.get(response.headers["Location"]).get_data(as_text=True)
    ids = re.findall(r'name="include_(\d+)" value="1" checked', page)
    assert len(ids) == 3
    # Reverse the order, drop nothing, give the last one 12 minutes and a presenter.
    form = {"csrf": token}
    for position, change_id in enumerate(reversed(ids), start=1):
        form |= {f"include_{change_id}": "1", f"position_{change_id}": str(position), f"minutes_{change_id}": "4",
                 f"note_{change_id}": "", f"presenter_{change_id}": ""}
    form[f"minutes_{ids[0]}"], form[f"presenter_{ids[0]}"] = "12", "Ana <b>Ortiz</b>"
    agenda_url = response.headers["Location"]
    assert coordinator.post(agenda_url, data=form).status_code == 302
    saved = coordinator.get(agenda_url).get_data(as_text=True)
    assert re.findall(r'name="include_(\d+)" value="1" checked', saved) == list(reversed(ids))
    assert "Ana &lt;b&gt;Ortiz&lt;/b&gt;" in saved
    ics = coordinator.get(agenda_url + "/agenda.ics")
    [event] = list(Calendar.from_ical(ics.data).walk("VEVENT"))
    description = str(event["description"])
    titles = [app.store.web.record(int(i)).row.title for i in reversed(ids)]
    assert [description.index(t) for t in titles] == sorted(description.index(t) for t in titles)
    assert "Presenter: Ana <b>Ortiz</b>" in description and 4 + 4 + 12 <= (event.decoded("dtend") -
                                                                            event.decoded("dtstart")).seconds // 60
    attorney, token = signed_in(web, "ana")
    assert attorney.get(agenda_url).status_code == 403
    sent = coordinator.post(agenda_url + "/send", data={"csrf": csrf_of(coordinator.get(agenda_url))})
    assert sent.status_code == 202 and app.store.outbox.counts().get("pending", 0) >= 1


def test_a_team_calendar_moves_an_event_when_its_date_moves(site):
    from icalendar import Calendar

    from watcher.decide import classify
    from watcher.models import Change, Match
    from watcher.store import CycleResult
    web, app, clock = site
    first = Change("federal-register", "2021-02665", "rule", "H-1B registration: delay of effective date", "s",
                   "https://www.federalregister.gov/d/2021-02665", facts={"effective_on": "2027-01-10"})
    moved = Change(**{**first.__dict__, "facts": {"effective_on": "2027-02-01"}})
    for change in (first, moved):
        decisions = classify([change], app.store.changes.latest_versions("federal-register", [change.item_key]))
        app.store.commit_cycle(CycleResult("federal-register", decisions, {change.item_key: [Match("H-1B", 1, "m", "r")]},
                                           (), app.store.sources.get("federal-register").validators, False, 1, True),
                               clock())
    admin, token = signed_in(web, "ada")
    issued = admin.post("/calendars", data={"csrf": token, "team": "all"}).get_data(as_text=True)
    path = re.search(r"(/calendar/[\w-]+\.ics)", issued).group(1)
    feed = client(web).get(path)  # a calendar client has no session: the token is the key
    [event] = list(Calendar.from_ical(feed.data).walk("VEVENT"))
    assert str(event["uid"]).startswith("change-") and event["sequence"] == 1
    assert str(event.decoded("dtstart")) == "2027-02-01"
    assert client(web).get(path.replace(".ics", "x.ics")).status_code == 404
    admin.post("/calendars", data={"csrf": token, "team": "all", "revoke": "1"})
    assert client(web).get(path).status_code == 404


def test_admins_upload_the_caseload_with_the_command_lines_refusals(site):
    web, app, _ = site
    admin, token = signed_in(web, "ada")
    good = b"matter_ref,case_type,team,status\nM-1,H-1B,business,Pending\nM-2,TPS,humanitarian,open\n"
    response = admin.post("/caseload", data={"csrf": token, "file": (io.BytesIO(good), "matters.csv")},
                          content_type="multipart/form-data")
    assert response.status_code == 302 and app.store.matters.open_counts() == {"H-1B": 1, "TPS": 1}
    names = b"matter_ref,client_name,case_type,team\nM-9,Jane Roe,TPS,humanitarian\n"
    refused = admin.post("/caseload", data={"csrf": token, "file": (io.BytesIO(names), "names.csv")},
                         content_type="multipart/form-data")
    assert refused.status_code == 400 and "refusing column &#39;client_name&#39;" in refused.get_data(as_text=True)
    assert app.store.matters.open_counts() == {"H-1B": 1, "TPS": 1}  # the refused file changed nothing
    attorney, token = signed_in(web, "ana")
    assert attorney.post("/caseload", data={"csrf": token, "file": (io.BytesIO(good), "m.csv")},
                         content_type="multipart/form-data").status_code == 403


def test_health_shows_next_polls_and_resends_a_dead_letter(site):
    from watcher.models import Message
    web, app, clock = site
    with app.store.transaction():
        app.store.outbox.enqueue(Message("W-DEAD000001", "k", 1, "Lost alert", "t", "h", ("mail",)), None, clock())
        [delivery_id] = [r[0] for r in app.store.db.execute("SELECT id FROM deliveries WHERE target = 'mail'")]
        app.store.outbox.mark_failed(delivery_id, clock(), "smtp refused", None)
    admin, token = signed_in(web, "ada")
    page = admin.get("/health").get_data(as_text=True)
    assert "W-DEAD000001 Lost alert" in page and "smtp refused" in page
    assert re.search(r"<td>2026-11-27 1[23]:\d\d</td>", page)  # uscis-alerts, every 30 min after its last poll
    assert admin.post(f"/outbox/{delivery_id}/resend", data={"csrf": token}).status_code == 302
    assert [d.id for d in app.store.outbox.due(clock(), 10) if d.target == "mail"] == [delivery_id]


def test_one_click_feedback_links_are_signed_expire_and_ask_first(server, make_config, smtp):
    from watcher.web.links import read_feedback_token
    items = uscis_items()
    server.routes["/feed"] = conditional_feed(rss(items[1:]), '"1"')
    extra = ('\n[web]\npublic_url = "https://watcher.firm.example"\n[[target]]\nname = "mail"\nurl_env = "M"\n'
             'tags = ["a"]\n[[route]]\ntags = ["a"]\ncase_types = ["*"]\n')
    directory = make_config([("uscis-alerts", server.url("/feed"))], extra)
    clock = Clock()
    app = app_module.build_app(app_module.load_config(directory), kinds={"rss": RssSource}, environ={"M": smtp.url},
                               now=clock)
    run_source(app.context, app.sources[0])
    server.routes["/feed"] = conditional_feed(rss(items), '"2"')
    clock.advance(minutes=31)
    run_source(app.context, app.sources[0])
    app.dispatcher.run()
    [mail] = smtp.messages
    html = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    [url] = re.findall(r'href="(https://watcher\.firm\.example/feedback/[^"]+)"', html)
    path = url.removeprefix("https://watcher.firm.example")
    with app.store.transaction():
        app.store.web.add_user("ana", "attorney", PASSWORD, clock())
    web = create_app(app.config, app.store, now=clock)
    assert client(web).get(path).status_code == 302  # sign in first
    browser, token = signed_in(web, "ana")
    confirm = browser.get(path)
    assert confirm.status_code == 200 and "Not relevant to H-1B" in confirm.get_data(as_text=True)
    assert app.store.db["feedback"].count == 0  # opening the link records nothing
    assert browser.post(path, data={"csrf": token}).status_code == 302
    assert [(f.case_type, f.relevant) for f in app.store.feedback.labels()] == [("H-1B", False)]
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert browser.get(tampered).status_code == 400
    secret = app.store.web.secret_key()
    assert read_feedback_token(secret, path.rsplit("/", 1)[1]) is not None
    assert read_feedback_token(secret, path.rsplit("/", 1)[1], max_age=-1) is None  # expired
    app.close()


def test_health_shows_feedback_waiting_and_the_last_retrains_effect(site):
    import json as jsonlib
    web, app, clock = site
    with app.store.transaction():
        app.store.web.set_setting("last_retrain", jsonlib.dumps({"at": "2026-11-27T12:00", "feedback": 4,
                                                                 "before": 0.881, "after": 0.884}))
        app.store.feedback.record(hostile_change_id(app), "H-1B", False, clock(), "ana")
    admin, _ = signed_in(web, "ada")
    page = admin.get("/health").get_data(as_text=True)
    assert "1 since the last retrain" in page and "0.881 without them, 0.884 with them" in page


HOSTILE = "<img src=x onerror=alert(1)>'; DROP TABLE changes; --"


@pytest.mark.parametrize("param", ["q", "type", "source", "team", "urgency", "since", "page"])
def test_every_query_parameter_is_data(site, param):
    web, app, _ = site
    browser, _ = signed_in(web, "ada")
    for path in ("/changes", "/tasks"):
        response = browser.get(path, query_string={param: HOSTILE, "status": HOSTILE})
        assert response.status_code == 200 and "<img src=x" not in response.get_data(as_text=True)
    assert app.store.db["changes"].count > 0


@pytest.mark.parametrize("path, fields", [
    ("/changes/{id}/feedback", {"case_type": HOSTILE, "verdict": HOSTILE}),
    ("/tasks/{task}", {"action": "assign", "value": HOSTILE}),
    ("/tasks/{task}", {"action": "due", "value": HOSTILE}),
    ("/tasks/{task}", {"action": HOSTILE}),
    ("/agendas", {"start": HOSTILE, "end": HOSTILE, "team": HOSTILE}),
    ("/calendars", {"team": HOSTILE}),
    ("/login", {"name": HOSTILE, "password": HOSTILE, "next": HOSTILE}),
])
def test_every_form_field_is_data(site, path, fields):
    web, app, _ = site
    browser, token = signed_in(web, "ada")
    [task] = app.store.web.tasks(status=None)
    path = path.format(id=hostile_change_id(app), task=task.id)
    response = browser.post(path, data={"csrf": token, **fields})
    assert response.status_code in (200, 302, 400, 401)
    assert "<img src=x" not in response.get_data(as_text=True)
    for page in ("/changes", "/tasks?status=all", "/health", "/tasks/audit.csv"):
        assert "<img src=x" not in browser.get(page).get_data(as_text=True) or page.endswith(".csv")
    assert app.store.db["changes"].count > 0 and app.store.integrity() == ["ok"]
