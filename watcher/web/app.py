"""The routes. Each view reads the store through `Store.web` (and the other store parts), renders a template, and
writes only inside a transaction with the signed-in user's name."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from functools import wraps
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

from flask import Flask, Response, abort, g, redirect, render_template, request, session, url_for

from dataclasses import replace
from datetime import date

from ..config import Config
from ..errors import InputError, WatcherError
from ..matching.caseload import parse_caseload
from ..meaning import lawyer_changes
from ..notify.agenda import (Planned, arranged_agenda, meeting_start, render_calendar, render_html, render_ics,
                             render_markdown)
from ..notify.alerts import CONSOLE
from ..notify.lawyer import describe, gist, key_dates
from ..notify.weekly import agenda_message, make_agenda
from ..store import Store
from .links import read_feedback_token
from .security import LoginLimiter, csrf_ok, new_csrf_token

# Who may do what. Attorneys read, give feedback and acknowledge; coordinators also assign and re-date tasks;
# admins also see health. Matter references are for attorneys and admins.
ROLES_MAY = {
    "read": {"attorney", "coordinator", "admin"},
    "feedback": {"attorney", "admin"},
    "acknowledge": {"attorney", "coordinator", "admin"},
    "assign": {"coordinator", "admin"},
    "matters": {"attorney", "admin"},
    "agendas": {"coordinator", "admin"},
    "health": {"admin"},
}
TASK_ACTIONS = {"acknowledge": "acknowledged", "done": "done", "reopen": "open"}
PAGE = 100


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def create_app(config: Config, store: Store, *, now: Callable[[], datetime] = utcnow,
               limiter: LoginLimiter | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    app.config.update(SECRET_KEY=store.web.secret_key(), SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SECURE=True,
                      SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_NAME="watcher_session",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=12), MAX_CONTENT_LENGTH=64 * 1024)
    settings, limiter = config.web, limiter or LoginLimiter()
    codes = [c.code for c in config.case_types]

    @app.before_request
    def load_user():
        g.user = None
        if settings.trusted_proxy_header and request.headers.get(settings.trusted_proxy_header):
            # The firm's SSO proxy vouches for the user; the account (and its role) must still exist here.
            g.user = store.web.user(request.headers[settings.trusted_proxy_header].strip().lower())
        elif "user" in session:
            last = session.get("seen", 0)
            if now().timestamp() - last > settings.idle_minutes * 60:
                session.clear()
            else:
                g.user = store.web.user(session["user"])
                session["seen"] = now().timestamp()
        if "csrf" not in session:
            session["csrf"] = new_csrf_token()
        if request.method == "POST" and not csrf_ok(session.get("csrf"), request.form.get("csrf")):
            abort(400, "The form expired or did not come from this site; reload the page and try again.")

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.template_filter("urlencode_page")
    def urlencode_page(args, page: int) -> str:
        return urlencode({**{k: v for k, v in args.items() if v and k != "page"}, "page": page})

    @app.context_processor
    def common():
        return {"user": g.get("user"), "csrf": session.get("csrf", ""), "may": _may}

    def _may(action: str) -> bool:
        return g.get("user") is not None and g.user.role in ROLES_MAY[action]

    def needs(action: str):
        def decorator(view):
            @wraps(view)
            def wrapped(*args, **kwargs):
                if g.user is None:
                    return redirect(url_for("login", next=request.path))
                if g.user.role not in ROLES_MAY[action]:
                    abort(403)
                return view(*args, **kwargs)
            return wrapped
        return decorator

    @app.get("/login")
    def login():
        return render_template("login.html", next=_safe_next(request.args.get("next")), error=None)

    @app.post("/login")
    def login_post():
        name = request.form.get("name", "").strip().lower()[:40]
        address = request.remote_addr or "?"
        if limiter.blocked(f"name:{name}", f"addr:{address}"):
            return render_template("login.html", next="/", error="Too many failed sign-ins; wait 15 minutes."), 429
        user = store.web.authenticate(name, request.form.get("password", ""))
        if user is None:
            limiter.failed(f"name:{name}", f"addr:{address}")
            return render_template("login.html", next=_safe_next(request.form.get("next")),
                                   error="Wrong name or password."), 401
        limiter.succeeded(f"name:{name}", f"addr:{address}")
        session.clear()  # a new session at sign-in: no fixation
        session.update(user=user.name, seen=now().timestamp(), csrf=new_csrf_token())
        return redirect(_safe_next(request.form.get("next")))

    @app.post("/logout")
    def logout():
        session.clear()
        return redirect(url_for("login"))

    @app.get("/")
    @needs("read")
    def index():
        return redirect(url_for("changes"))

    @app.get("/changes")
    @needs("read")
    def changes():
        args = request.args
        page = max(int(args.get("page", "1")) if args.get("page", "1").isdigit() else 1, 1)
        filters = {"case_type": args.get("type") or None, "source": args.get("source") or None,
                   "team": args.get("team") or None,
                   "urgency": args.get("urgency") or None, "since": args.get("since") or None,
                   "search": (args.get("q") or "")[:200] or None}
        rows = store.web.changes(**filters, limit=PAGE + 1, offset=(page - 1) * PAGE)
        return render_template("changes.html", rows=rows[:PAGE], more=len(rows) > PAGE, page=page, args=args,
                               codes=codes, sources=store.web.sources(), teams=store.web.teams())

    @app.get("/changes/<int:change_id>")
    @needs("read")
    def change(change_id: int):
        record = store.web.record(change_id)
        if record is None:
            abort(404)
        versions = []
        for before, after in zip(record.versions, record.versions[1:]):
            was = {**before.facts, "title": before.title, "summary": before.summary}
            now_ = {**after.facts, "title": after.title, "summary": after.summary}
            versions.append((after, [c.line() for c in lawyer_changes(record.row.kind, was, now_)]))
        doc_type, agency = describe(record.row.kind, record.facts)
        matched = [m[0] for m in record.matches]
        matters = store.matters.open_matters(matched) if _may("matters") and matched else []
        return render_template("change.html", record=record, versions=versions, document=f"{doc_type}, {agency}",
                               gist=gist(record.summary, 3), dates=[d.text() for d in key_dates(record.facts,
                                                                                           now().date())],
                               matters=matters, tasks=store.web.tasks_of_change(change_id), codes=codes)

    @app.post("/changes/<int:change_id>/feedback")
    @needs("feedback")
    def feedback(change_id: int):
        code, verdict = request.form.get("case_type", ""), request.form.get("verdict", "")
        if code not in codes or verdict not in ("relevant", "not_relevant") or store.web.record(change_id) is None:
            abort(400, "Unknown case type, verdict or change.")
        with store.transaction():
            store.feedback.record(change_id, code, verdict == "relevant", now(), g.user.name)
        return redirect(url_for("change", change_id=change_id) + "#feedback")

    def _from_token(token: str) -> tuple[int, str, str]:
        found = read_feedback_token(app.config["SECRET_KEY"], token)
        change_id = store.web.change_id_for(found[0], found[1]) if found else None
        if found is None or change_id is None or found[2] not in codes:
            abort(400, "This feedback link was altered or has expired; open the change and give feedback there.")
        return change_id, found[2], found[3]

    @app.get("/feedback/<token>")
    @needs("feedback")
    def feedback_link(token: str):
        """An e-mail's one-click link: it only shows what it would record; the button below records it."""
        change_id, code, verdict = _from_token(token)
        return render_template("feedback_confirm.html", record=store.web.record(change_id), code=code,
                               verdict=verdict, token=token)

    @app.post("/feedback/<token>")
    @needs("feedback")
    def feedback_confirm(token: str):
        change_id, code, verdict = _from_token(token)
        with store.transaction():
            store.feedback.record(change_id, code, verdict == "relevant", now(), g.user.name)
        return redirect(url_for("change", change_id=change_id) + "#feedback")

    @app.get("/tasks")
    @needs("read")
    def tasks():
        team, status = request.args.get("team") or None, request.args.get("status") or "open"
        rows = store.web.tasks(team, None if status == "all" else status)
        return render_template("tasks.html", rows=rows, team=team, status=status, teams=store.web.teams(),
                               today=now().date().isoformat())

    @app.post("/tasks/<int:task_id>")
    @needs("acknowledge")
    def task(task_id: int):
        action = request.form.get("action", "")
        fields: dict[str, str] = {}
        if action in TASK_ACTIONS:
            fields["status"] = TASK_ACTIONS[action]
        elif action in ("due", "assign"):
            if not _may("assign"):
                abort(403)
            value = request.form.get("value", "").strip()
            if action == "due" and not _is_date(value):
                abort(400, "A due date is YYYY-MM-DD.")
            if action == "assign" and not (0 < len(value) <= 60):
                abort(400, "A team name is 1-60 characters.")
            fields["due" if action == "due" else "team"] = value
        else:
            abort(400, "Unknown action.")
        with store.transaction():
            if not store.web.set_task(task_id, g.user.name, now(), **fields):
                abort(404)
        back = _safe_next(request.form.get("back"))
        return redirect(back if back != "/" else url_for("tasks"))

    @app.get("/tasks/audit.csv")
    @needs("read")
    def audit():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["task_id", "at", "actor", "action", "detail"])
        for event in store.web.task_events():
            writer.writerow([event.task_id, event.at, event.actor, event.action, _csv_safe(event.detail)])
        return Response(out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=task-audit.csv"})

    @app.get("/health")
    @needs("health")
    def health():
        states = {s.source_id: s for s in store.sources.all()}
        rows = [(c, states.get(c.id), _next_poll(c, states.get(c.id), now())) for c in config.sources]
        retrain = json.loads(store.web.setting("last_retrain") or "null")
        return render_template("health.html", sources=rows, outbox=store.outbox.counts(), dead=store.outbox.dead(),
                               matters=store.matters.open_counts(), feedback=store.web.waiting_feedback(),
                               waiting=store.web.feedback_since(retrain["at"] if retrain else None), retrain=retrain,
                               message=request.args.get("message", "")[:300])

    @app.post("/outbox/<int:delivery_id>/resend")
    @needs("health")
    def resend(delivery_id: int):
        with store.transaction():
            done = store.outbox.resend(delivery_id, now())
        return redirect(url_for("health", message="Queued again; the service sends it within a minute." if done
                                else "That delivery is not a dead letter."))

    @app.post("/caseload")
    @needs("health")
    def caseload():
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            abort(400, "Choose a CSV file.")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"{upload.filename}: not UTF-8 text") from None
        matters = parse_caseload(text, Path(upload.filename).name, codes, config.matching.aliases)
        with store.transaction():
            store.matters.replace_all(matters, now())
        return redirect(url_for("health", message=f"Imported {len(matters)} matters."))

    # -- the agenda builder ------------------------------------------------------------------------------------------

    @app.get("/agendas")
    @needs("agendas")
    def agendas():
        today = now().date()
        return render_template("agendas.html", saved=store.agendas.all(), teams=store.web.teams(),
                               start=(today - timedelta(days=6)).isoformat(), end=today.isoformat())

    @app.post("/agendas")
    @needs("agendas")
    def agenda_new():
        start, end = request.form.get("start", ""), request.form.get("end", "")
        team = request.form.get("team") or None
        if not (_is_date(start) and _is_date(end)) or end < start:
            abort(400, "A period is two dates, YYYY-MM-DD, the first not after the second.")
        proposal = make_agenda(store, date.fromisoformat(start), date.fromisoformat(end), team)
        plan = [Planned(i.change_id, i.minutes) for _, items in proposal.sections for i in items]
        with store.transaction():
            agenda_id = store.agendas.create(f"Policy briefing {start} to {end}" + (f" ({team})" if team else ""),
                                             team, start, end, g.user.name, now(), plan)
        return redirect(url_for("agenda_page", agenda_id=agenda_id))

    def _arranged(agenda_id: int):
        found = store.agendas.get(agenda_id)
        if found is None:
            abort(404)
        meta, rows = found
        start, end = date.fromisoformat(meta.start), date.fromisoformat(meta.end)
        plan = [Planned(*row) for row in rows]
        changes = _alerted(start, end, [p.change_id for p in plan])
        agenda = arranged_agenda(changes, plan, store.tasks.listing("open", meta.team), store.matters.open_counts(),
                                 start, end, meta.team, meta.title)
        return meta, agenda

    def _alerted(start: date, end: date, ids: list[int]):
        begin = datetime.combine(start, datetime.min.time(), timezone.utc)
        finish = datetime.combine(end, datetime.min.time(), timezone.utc) + timedelta(days=1)
        found = {c.change_id: c for c in store.tasks.alerted_between(begin, finish)}
        return [found[i] for i in ids if i in found]

    @app.get("/agendas/<int:agenda_id>")
    @needs("agendas")
    def agenda_page(agenda_id: int):
        meta, agenda = _arranged(agenda_id)
        start, end = date.fromisoformat(meta.start), date.fromisoformat(meta.end)
        # What could still be added: the period's other alerted changes.
        planned = {i.change_id for _, items in agenda.sections for i in items}
        proposal = make_agenda(store, start, end, meta.team)
        extra = [i for _, items in proposal.sections for i in items if i.change_id not in planned]
        return render_template("agenda.html", meta=meta, agenda=agenda, extra=extra)

    @app.post("/agendas/<int:agenda_id>")
    @needs("agendas")
    def agenda_save(agenda_id: int):
        if store.agendas.get(agenda_id) is None:
            abort(404)
        lines = []
        for key in request.form:
            if not key.startswith("include_"):
                continue
            change_id = key.removeprefix("include_")
            if not change_id.isdigit():
                abort(400, "Malformed agenda line.")
            position = request.form.get(f"position_{change_id}", "0")
            minutes = request.form.get(f"minutes_{change_id}", "5")
            if not (position.lstrip("-").isdigit() and minutes.isdigit() and 0 < int(minutes) <= 120):
                abort(400, "Position is a number; minutes are 1 to 120.")
            lines.append((int(position), Planned(int(change_id), int(minutes),
                                                 request.form.get(f"note_{change_id}", "")[:500],
                                                 request.form.get(f"presenter_{change_id}", "")[:100])))
        lines.sort(key=lambda pair: pair[0])
        with store.transaction():
            store.agendas.save(agenda_id, [line for _, line in lines], now())
        return redirect(url_for("agenda_page", agenda_id=agenda_id))

    @app.get("/agendas/<int:agenda_id>/agenda.<fmt>")
    @needs("agendas")
    def agenda_download(agenda_id: int, fmt: str):
        meta, agenda = _arranged(agenda_id)
        zone = config.agenda.timezone
        meeting = meeting_start(config.agenda.meeting, agenda.start, agenda.end, zone)
        if fmt == "ics":
            body, mimetype = render_ics(agenda, config.agenda.meeting, zone, config.agenda.organizer,
                                        config.agenda.attendees, now=now()), "text/calendar"
        elif fmt == "md":
            body, mimetype = render_markdown(agenda, meeting), "text/markdown"
        elif fmt == "html":
            body, mimetype = render_html(agenda, meeting), "text/html"
        else:
            abort(404)
        return Response(body, mimetype=mimetype,
                        headers={"Content-Disposition": f"attachment; filename=briefing-{meta.start}.{fmt}"})

    @app.post("/agendas/<int:agenda_id>/send")
    @needs("agendas")
    def agenda_send(agenda_id: int):
        meta, agenda = _arranged(agenda_id)
        targets = tuple(t.name for t in config.targets if set(t.tags) & set(config.agenda.tags)) or \
            (() if config.targets else (CONSOLE,))
        if not targets:
            abort(400, "No target carries the [agenda] tags: nobody to send it to.")
        message = agenda_message(agenda, config, now(), ref_key=f"web-{agenda_id}-{now().isoformat()}")
        with store.transaction():
            store.outbox.enqueue(replace(message, targets=targets), None, now())
        return render_template("error.html", message=f"Queued for {', '.join(targets)}; the service sends it "
                                                     "within a minute."), 202

    # -- living calendars -----------------------------------------------------------------------------------------

    @app.get("/calendar/<token>.ics")
    def calendar(token: str):
        team = store.calendars.team_for(token)
        if team is None:
            abort(404)
        types = None if team == "all" else sorted({m.case_type for m in store.matters.open_matters() if m.team == team})
        return Response(render_calendar(team, store.calendars.dated_changes(types), now()), mimetype="text/calendar")

    @app.post("/calendars")
    @needs("health")
    def calendar_issue():
        team = request.form.get("team", "").strip()
        if not 0 < len(team) <= 60:
            abort(400, "A team name is 1-60 characters.")
        with store.transaction():
            if request.form.get("revoke"):
                store.calendars.revoke(team)
                return render_template("error.html", message=f"Calendar links of team {team} revoked.")
            token = store.calendars.issue(team, now())
        return render_template("calendar_link.html", team=team, path=url_for("calendar", token=token))

    @app.errorhandler(WatcherError)
    def watcher_error(exc: WatcherError):
        return render_template("error.html", message=str(exc)), 400

    return app


def _next_poll(source, state, moment: datetime) -> str:
    """When the service polls the source next: its backoff, or the next time its schedule fires."""
    from ..scheduler import trigger_for

    if not source.enabled:
        return "disabled"
    if state is not None and state.backoff_until and state.backoff_until > moment:
        return f"{state.backoff_until:%Y-%m-%d %H:%M} (backing off)"
    if source.schedule.every and state is not None and state.last_attempt_at:
        return f"{max(state.last_attempt_at + source.schedule.every, moment):%Y-%m-%d %H:%M}"
    fire = trigger_for(source.schedule).get_next_fire_time(None, moment)
    return f"{fire:%Y-%m-%d %H:%M}" if fire else "-"


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute or scheme-relative URL (an open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _is_date(value: str) -> bool:
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def _csv_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
