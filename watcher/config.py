"""TOML -> frozen dataclasses. Every error names the file and the path: `sources.toml: source[2].url: ...`.

Secrets never live here: a target names an environment variable or a systemd credential that holds its
apprise URL, and `credentials.resolve_secret` reads it at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .tomlfile import Section, read_toml

SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
INTERVAL = re.compile(r"^(\d+)\s*([smhd])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
MANUAL_ENTRY = re.compile(r"^\d{1,2}( [A-Z])?$")


@dataclass(frozen=True)
class Schedule:
    """Either a fixed interval or crontab lines (in `timezone`, UTC unless the source names one), plus jitter so
    restarts don't sync."""

    every: timedelta | None = None
    cron: tuple[str, ...] = ()  # several lines fire as one trigger (daily, plus more often mid-month)
    jitter_seconds: int = 60
    timezone: str = "UTC"       # "America/New_York": the Supreme Court's 10:00 is 10:00 all year

    def describe(self) -> str:
        return f"every {self.every}" if self.every else "cron " + " | ".join(self.cron)


@dataclass(frozen=True)
class SourceConfig:
    id: str
    kind: str
    url: str
    schedule: Schedule
    name: str = ""
    enabled: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)
    # No new item for longer than this makes the source "silent" (None: never judged silent).
    silent_after: timedelta | None = None
    # Poll only while one of these sources is failing or parser-broken (the HTML fallback of a feed).
    fallback_for: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseType:
    code: str
    name: str
    description: str
    forms: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    cfr: tuple[str, ...] = ()
    policy_manual: tuple[str, ...] = ()  # USCIS Policy Manual volumes ("12") or volume parts ("2 H") it governs


@dataclass(frozen=True)
class Relation:
    """When the item already has one of `when` (or always, if empty) and its text matches, add `reaches`.

    `requires` is a list of phrase groups: every group must have one phrase in the text. `excludes` phrases
    must all be absent. With `named_only`, a relation reaches only the types of `reaches` that the text itself
    names (by form or phrase), or all of them when it names none ("Form I-129" as a whole reaches H-1B, L-1 and
    O-1; "premium processing for H-1B" reaches H-1B). `drops` removes codes instead (a Board decision on a visa
    petition is not REMOVAL).
    """

    name: str
    why: str
    reaches: tuple[str, ...] = ()
    drops: tuple[str, ...] = ()
    when: tuple[str, ...] = ()
    requires: tuple[tuple[str, ...], ...] = ()
    excludes: tuple[str, ...] = ()
    title_only: bool = False
    named_only: bool = False


@dataclass(frozen=True)
class HttpSettings:
    user_agent: str
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 60.0
    max_bytes: int = 15 * 1024 * 1024
    max_redirects: int = 5
    # Content-Encoding layers undone per response: one (gzip or deflate) is all an agency sends; a stack is an attack.
    max_encodings: int = 1
    allowed_hosts: tuple[str, ...] = ()
    ca_bundle: str | None = None
    # Only a test configuration turns this on; a firm's config never needs a loopback source.
    allow_loopback: bool = False


FORMATS = ("auto", "email", "slack", "text")
URGENCIES = ("INFO", "ACTION", "URGENT")
MODES = ("immediate", "daily", "weekly")


@dataclass(frozen=True)
class TargetConfig:
    name: str
    tags: tuple[str, ...]
    url_env: str | None = None
    url_credential: str | None = None
    format: str = "auto"            # auto: e-mail for mailto(s)://, safe text for everything else
    team: str | None = None         # the team this target reaches (for matter references)
    include_matter_refs: bool = False  # e-mail only: list the team's open matter references
    lead_for: tuple[str, ...] = ()  # teams whose unacknowledged urgent tasks escalate to this target ("*": all)


@dataclass(frozen=True)
class RouteConfig:
    case_types: tuple[str, ...]  # ("*",) means every case type
    tags: tuple[str, ...]
    min_urgency: str = "INFO"
    mode: str = "immediate"      # or a daily / weekly digest


@dataclass(frozen=True)
class TrainingSettings:
    due_days: int = 7            # a task with no effective date is due this many days after the change
    escalate_days: int = 3       # an ACTION/URGENT task nobody acknowledged this close to the effective date escalates


@dataclass(frozen=True)
class AgendaSettings:
    tags: tuple[str, ...] = ()   # the training coordinators' targets
    schedule: str | None = None  # crontab line (UTC) for sending the weekly agenda
    meeting: str = "mon 15:00"   # weekday and local time (in `timezone`) of the briefing, for the calendar invite
    timezone: str = "America/New_York"
    organizer: str | None = None        # e-mail address of the training coordinator who runs the briefing
    attendees: tuple[str, ...] = ()     # e-mail addresses invited
    group: str = "case_type"            # agenda sections: "case_type" or "team"


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"             # behind the firm's reverse proxy; never 0.0.0.0 by default
    port: int = 8640
    idle_minutes: int = 30              # a session unused this long signs out
    trusted_proxy_header: str | None = None  # e.g. "X-Remote-User" from the firm's SSO proxy; unset: passwords
    public_url: str | None = None       # how users reach it (links in e-mails)


@dataclass(frozen=True)
class MatchingSettings:
    method: str = "keywords"   # "embedding" for the learned matcher; "keywords" needs no model
    min_score: float = 0.5     # keywords method only
    model_path: Path | None = None   # a local sentence-transformers directory; default: the packaged model
    model_sha256: str | None = None  # required with model_path; the packaged model's hash otherwise
    labels: Path | None = None       # labeled items to train on; default: the bundled set
    aliases: Mapping[str, str] = field(default_factory=dict)  # caseload CSV names -> case-type codes
    release_after: float = 10.0      # minutes without a classification before the encoder's memory is released


@dataclass(frozen=True)
class Config:
    directory: Path
    storage_path: Path
    http: HttpSettings
    matching: MatchingSettings
    sources: tuple[SourceConfig, ...]
    case_types: tuple[CaseType, ...]
    targets: tuple[TargetConfig, ...]
    routes: tuple[RouteConfig, ...]
    ops_tags: tuple[str, ...] = ()  # targets with these tags hear about source health and dead letters
    training: TrainingSettings = TrainingSettings()
    agenda: AgendaSettings = AgendaSettings()
    relations: tuple[Relation, ...] = ()  # case_types.toml [[relation]]: who else a change reaches
    web: WebSettings = WebSettings()

    def ops_targets(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.targets if set(t.tags) & set(self.ops_tags))

    def source(self, source_id: str) -> SourceConfig:
        for source in self.sources:
            if source.id == source_id:
                return source
        known = ", ".join(s.id for s in self.sources)
        raise ConfigError(f"unknown source '{source_id}' (configured: {known})")


UNIX_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab(5): 0 and 7 are Sunday
_DAY_PART = re.compile(r"(\*|[0-7](?:-[0-7])?)(?:/([1-9]))?")


def crontab_fields(line: str) -> dict[str, str]:
    """The five fields of a crontab line as apscheduler's CronTrigger arguments, the day of week translated.

    In crontab(5) day 1 is Monday and 0 or 7 Sunday; apscheduler 3 counts 0 as Monday, so `1-5` given straight
    to it runs Tuesday to Saturday. Numbers, ranges and steps are spelled out as day names, which mean the same
    to both; names pass through. Raises ValueError for anything neither reads.
    """
    fields = line.split()
    if len(fields) != 5:
        raise ValueError(f"a crontab line has 5 fields (minute hour day month day-of-week), got {len(fields)}")
    minute, hour, day, month, day_of_week = fields
    return {"minute": minute, "hour": hour, "day": day, "month": month,
            "day_of_week": ",".join(_unix_days(part) for part in day_of_week.lower().split(","))}


def _unix_days(part: str) -> str:
    match = _DAY_PART.fullmatch(part)
    if match is None:
        if re.search(r"\d", part):
            raise ValueError(f"day of week '{part}' mixes names and numbers")
        return part  # names (mon-fri, sat,sun): the same in crontab and apscheduler
    span, step = match.group(1), int(match.group(2) or 1)
    first, last = (0, 6) if span == "*" else (int(span.split("-")[0]), int(span.split("-")[-1]))
    if first > last:
        raise ValueError(f"day of week range '{part}' runs backwards")
    if span == "*" and step == 1:
        return "*"
    return ",".join(dict.fromkeys(UNIX_DAYS[d % 7] for d in range(first, last + 1, step)))


MIN_INTERVAL = timedelta(minutes=5)  # politeness: at most one request per URL per 5 minutes


def parse_schedule(section: Section, key: str = "schedule") -> Schedule:
    """An interval ("30m"), a crontab line, or a list of crontab lines; crontab in `timezone` (default UTC)."""
    jitter = int(section.number("jitter_seconds", 60, minimum=-1))
    zone = section.get("timezone", str, "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise section.error(f"unknown time zone '{zone}' (an IANA name like 'America/New_York')", "timezone") from None
    value = section.get(key, (str, list), required=True)
    if isinstance(value, str) and INTERVAL.match(value.strip()):
        interval = INTERVAL.match(value.strip())
        every = timedelta(**{UNITS[interval.group(2)]: int(interval.group(1))})
        if every < MIN_INTERVAL:
            raise section.error("must be at least 5m: at most one request per URL per 5 minutes", key)
        return Schedule(every=every, jitter_seconds=jitter)
    from apscheduler.triggers.cron import CronTrigger  # validates the crontab the same way it runs

    lines = section.strings(key) if isinstance(value, list) else (value.strip(),)
    if not lines:
        raise section.error("must not be empty", key)
    for line in lines:
        try:
            CronTrigger(**crontab_fields(line), timezone=zone)
        except ValueError as exc:
            raise section.error(f"'{line}' is not an interval like '30m' nor a crontab line: {exc}", key) from None
    return Schedule(cron=tuple(lines), jitter_seconds=jitter, timezone=zone)


def parse_duration(section: Section, key: str) -> timedelta:
    match = INTERVAL.match(section.text(key, required=True).strip())
    if not match:
        raise section.error("must be a duration like '36h' or '35d'", key)
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    for pattern in allowed:
        pattern = pattern.lower()
        if host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:])):
            return True
    return False


def _load_http(root: Section) -> HttpSettings:
    s = root.section("http")
    s.allow("user_agent", "connect_timeout", "read_timeout", "deadline", "max_bytes", "max_redirects",
            "max_encodings", "allowed_hosts", "ca_bundle", "allow_loopback")
    user_agent = s.text("user_agent", required=True)
    if "@" not in user_agent and "http" not in user_agent:
        raise s.error("must name a contact (an e-mail address or a URL), so agencies can reach the firm",
                      "user_agent")
    settings = HttpSettings(
        user_agent=user_agent,
        connect_timeout=s.number("connect_timeout", 10),
        read_timeout=s.number("read_timeout", 30),
        deadline=s.number("deadline", 60),
        max_bytes=int(s.number("max_bytes", 15 * 1024 * 1024)),
        max_redirects=int(s.get("max_redirects", int, 5)),
        max_encodings=int(s.get("max_encodings", int, 1)),
        allowed_hosts=s.strings("allowed_hosts"),
        ca_bundle=s.get("ca_bundle", str, None),
        allow_loopback=s.get("allow_loopback", bool, False),
    )
    if not 0 <= settings.max_redirects <= 10:
        raise s.error("must be between 0 and 10", "max_redirects")
    if not 0 <= settings.max_encodings <= 3:
        raise s.error("must be between 0 and 3", "max_encodings")
    if not settings.allowed_hosts:
        raise s.error("must list at least one host", "allowed_hosts")
    return settings


def _load_targets(root: Section) -> tuple[TargetConfig, ...]:
    targets = []
    for t in root.items("target"):
        t.allow("name", "tags", "url_env", "url_credential", "url", "format", "team", "include_matter_refs",
                "lead_for")
        if "url" in t.data:
            raise t.error("secrets never live in the TOML: name an environment variable (url_env) "
                          "or a systemd credential (url_credential) that holds the apprise URL", "url")
        target = TargetConfig(name=t.text("name", required=True), tags=t.strings("tags"),
                              url_env=t.get("url_env", str, None),
                              url_credential=t.get("url_credential", str, None),
                              format=t.get("format", str, "auto"), team=t.get("team", str, None),
                              include_matter_refs=t.get("include_matter_refs", bool, False),
                              lead_for=t.strings("lead_for"))
        if target.format not in FORMATS:
            raise t.error(f"must be one of {', '.join(FORMATS)}", "format")
        if target.include_matter_refs and not target.team:
            raise t.error("matter references go only to a named team: set team", "include_matter_refs")
        if (target.url_env is None) == (target.url_credential is None):
            raise t.error("needs exactly one of url_env or url_credential")
        if not target.tags:
            raise t.error("must list at least one tag", "tags")
        if any(target.name == other.name for other in targets):
            raise t.error(f"duplicate target name '{target.name}'", "name")
        targets.append(target)
    return tuple(targets)


def _load_routes(root: Section, codes: set[str], tags: set[str]) -> tuple[RouteConfig, ...]:
    routes = []
    for r in root.items("route"):
        r.allow("case_types", "tags", "min_urgency", "mode")
        route = RouteConfig(case_types=r.strings("case_types", ("*",)), tags=r.strings("tags"),
                            min_urgency=r.get("min_urgency", str, "INFO"), mode=r.get("mode", str, "immediate"))
        if route.min_urgency not in URGENCIES:
            raise r.error(f"must be one of {', '.join(URGENCIES)}", "min_urgency")
        if route.mode not in MODES:
            raise r.error(f"must be one of {', '.join(MODES)}", "mode")
        for code in route.case_types:
            if code != "*" and code not in codes:
                raise r.error(f"unknown case type '{code}' (see case_types.toml)", "case_types")
        _check_tags(r, route.tags, tags)
        routes.append(route)
    return tuple(routes)


def _check_tags(section: Section, wanted: tuple[str, ...], carried: set[str]) -> None:
    """A route, the ops list or the agenda naming a tag no target carries would reach nobody: say so at start."""
    for tag in wanted:
        if tag not in carried:
            raise section.error(f"no target carries tag '{tag}'", "tags")


def _load_sources(directory: Path, http: HttpSettings) -> tuple[SourceConfig, ...]:
    root = read_toml(directory / "sources.toml")
    root.allow("source")
    sources: list[SourceConfig] = []
    for s in root.items("source"):
        known = {"id", "kind", "url", "schedule", "jitter_seconds", "name", "enabled", "silent_after", "fallback_for",
                 "timezone"}
        source_id = s.text("id", required=True)
        if not SOURCE_ID.match(source_id):
            raise s.error("must be lowercase letters, digits, '-' or '_'", "id")
        if any(other.id == source_id for other in sources):
            raise s.error(f"duplicate source id '{source_id}'", "id")
        url = s.text("url", required=True)
        check_source_url(url, http, s.where("url"))
        sources.append(SourceConfig(
            id=source_id, kind=s.text("kind", required=True), url=url, schedule=parse_schedule(s),
            name=s.get("name", str, source_id), enabled=s.get("enabled", bool, True),
            options={k: v for k, v in s.data.items() if k not in known},
            silent_after=parse_duration(s, "silent_after") if "silent_after" in s.data else None,
            fallback_for=s.strings("fallback_for"),
        ))
    ids = {source.id for source in sources}
    for i, source in enumerate(sources):
        for other in source.fallback_for:
            if other not in ids or other == source.id:
                raise ConfigError(f"sources.toml: source[{i}].fallback_for: '{other}' is not another configured source")
    return tuple(sources)


def check_source_url(url: str, http: HttpSettings, where: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise ConfigError(f"{where}: must be https")
    if not parts.hostname:
        raise ConfigError(f"{where}: has no host")
    if not host_allowed(parts.hostname, http.allowed_hosts):
        raise ConfigError(f"{where}: host '{parts.hostname}' is not in watcher.toml http.allowed_hosts")


def _load_case_types(directory: Path) -> tuple[tuple[CaseType, ...], tuple[Relation, ...]]:
    root = read_toml(directory / "case_types.toml")
    root.allow("case_type", "relation")
    types: list[CaseType] = []
    for c in root.items("case_type"):
        c.allow("code", "name", "description", "forms", "keywords", "cfr", "policy_manual")
        code = c.text("code", required=True)
        if any(t.code == code for t in types):
            raise c.error(f"duplicate code '{code}'", "code")
        manual = c.strings("policy_manual")
        for i, entry in enumerate(manual):
            if not MANUAL_ENTRY.match(entry):
                raise c.error(f"[{i}] '{entry}' is not a volume ('12') or a volume and part ('2 H')", "policy_manual")
        types.append(CaseType(code=code, name=c.text("name", required=True),
                              description=c.text("description", required=True), forms=c.strings("forms"),
                              keywords=c.strings("keywords"), cfr=c.strings("cfr"), policy_manual=manual))
    if not types:
        raise root.error("defines no case_type")
    return tuple(types), _load_relations(root, {t.code for t in types})


def _load_relations(root: Section, codes: set[str]) -> tuple[Relation, ...]:
    """The firm's cross-cutting relations (matching/relations.py): every code known, every phrase non-empty."""
    relations: list[Relation] = []
    for r in root.items("relation"):
        r.allow("name", "why", "reaches", "drops", "when", "requires", "excludes", "title_only", "named_only")
        name = r.text("name", required=True)
        if any(x.name == name for x in relations):
            raise r.error(f"duplicate name '{name}'", "name")
        for key in ("reaches", "drops", "when"):
            for code in r.strings(key):
                if code not in codes and not (key == "drops" and code == "*"):
                    raise r.error(f"unknown case type '{code}' (see case_type codes above)", key)
        relation = Relation(name=name, why=r.text("why", required=True), reaches=r.strings("reaches"),
                            drops=r.strings("drops"), when=r.strings("when"), requires=_phrase_groups(r),
                            excludes=r.strings("excludes"), title_only=r.get("title_only", bool, False),
                            named_only=r.get("named_only", bool, False))
        if not relation.reaches and not relation.drops:
            raise r.error("needs reaches or drops (what the relation changes)")
        if not relation.when and not relation.requires:
            raise r.error("needs when or requires (a relation that always fires would tag every item)")
        relations.append(relation)
    return tuple(relations)


def _phrase_groups(section: Section) -> tuple[tuple[str, ...], ...]:
    """`requires = [["premium processing"], ["Form I-129", "I-129"]]`: each inner list is a set of alternatives,
    and every one of the lists must match."""
    groups = section.get("requires", list, [])
    out = []
    for i, group in enumerate(groups):
        if not isinstance(group, list) or not group:
            raise section.error(f"[{i}] must be a non-empty list of phrases (alternatives)", "requires")
        for j, value in enumerate(group):
            if not isinstance(value, str) or not value.strip():
                raise section.error(f"[{i}][{j}] must be a non-empty string", "requires")
        out.append(tuple(group))
    return tuple(out)


def load(directory: str | Path, *, db_override: str | Path | None = None) -> Config:
    """Load and validate the three files in `directory`; raises ConfigError naming file and path."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(f"{directory}: config directory not found")
    root = read_toml(directory / "watcher.toml")
    root.allow("storage", "http", "matching", "target", "route", "ops", "training", "agenda", "web")
    storage = root.section("storage")
    storage.allow("path")
    http = _load_http(root)
    case_types, relations = _load_case_types(directory)
    targets = _load_targets(root)
    tags = {tag for target in targets for tag in target.tags}
    routes = _load_routes(root, {c.code for c in case_types}, tags)
    training = root.section("training")
    training.allow("due_days", "escalate_days")
    return Config(
        directory=directory,
        # Like every path in watcher.toml, relative to the config directory: `watcher status` run from any
        # directory reads the file the service writes. --db (a command-line path) is taken as given.
        storage_path=Path(db_override) if db_override else _relative(directory, storage.text("path", required=True)),
        http=http,
        matching=_load_matching(root, directory, {c.code for c in case_types}),
        sources=_load_sources(directory, http),
        case_types=case_types,
        relations=relations,
        targets=targets,
        routes=routes,
        ops_tags=_load_ops_tags(root, tags),
        training=TrainingSettings(due_days=int(training.number("due_days", 7)),
                                  escalate_days=int(training.number("escalate_days", 3))),
        agenda=_load_agenda(root, tags),
        web=_load_web(root),
    )


def _load_ops_tags(root: Section, tags: set[str]) -> tuple[str, ...]:
    ops = root.section("ops")
    ops.allow("tags")
    ops_tags = ops.strings("tags")
    _check_tags(ops, ops_tags, tags)
    return ops_tags


def _load_web(root: Section) -> WebSettings:
    web = root.section("web")
    web.allow("host", "port", "idle_minutes", "trusted_proxy_header", "public_url")
    settings = WebSettings(host=web.get("host", str, "127.0.0.1"), port=int(web.get("port", int, 8640)),
                           idle_minutes=int(web.number("idle_minutes", 30)),
                           trusted_proxy_header=web.get("trusted_proxy_header", str, None),
                           public_url=web.get("public_url", str, None))
    if not 1 <= settings.port <= 65535:
        raise web.error("must be a TCP port (1-65535)", "port")
    if settings.trusted_proxy_header and not re.fullmatch(r"[A-Za-z0-9-]{3,64}", settings.trusted_proxy_header):
        raise web.error("must be a header name like 'X-Remote-User'", "trusted_proxy_header")
    return settings


def _load_agenda(root: Section, tags: set[str]) -> AgendaSettings:
    agenda = root.section("agenda")
    agenda.allow("tags", "schedule", "meeting", "timezone", "organizer", "attendees", "group")
    settings = AgendaSettings(tags=agenda.strings("tags"), schedule=agenda.get("schedule", str, None),
                              meeting=agenda.get("meeting", str, "mon 15:00"),
                              timezone=agenda.get("timezone", str, "America/New_York"),
                              organizer=agenda.get("organizer", str, None), attendees=agenda.strings("attendees"),
                              group=agenda.get("group", str, "case_type"))
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise agenda.error(f"unknown time zone '{settings.timezone}' (an IANA name like 'America/New_York')",
                           "timezone") from None
    for key, address in [("organizer", settings.organizer), *(("attendees", a) for a in settings.attendees)]:
        if address is not None and not re.fullmatch(r"[^@\s<>\"]+@[^@\s<>\"]+\.[A-Za-z]{2,}", address):
            raise agenda.error(f"'{address}' is not an e-mail address", key)
    if settings.group not in ("case_type", "team"):
        raise agenda.error("must be 'case_type' or 'team'", "group")
    _check_tags(agenda, settings.tags, tags)
    if settings.schedule:
        parse_schedule(Section(agenda.file, agenda.path, {"schedule": settings.schedule}))
    if not re.fullmatch(r"(mon|tue|wed|thu|fri|sat|sun) ([01]\d|2[0-3]):[0-5]\d", settings.meeting):
        raise agenda.error("must look like 'mon 15:00' (weekday, local time in [agenda] timezone)", "meeting")
    return settings


def _load_matching(root: Section, directory: Path, codes: set[str]) -> MatchingSettings:
    matching = root.section("matching")
    matching.allow("method", "min_score", "model_path", "model_sha256", "labels", "aliases", "release_after")
    method = matching.text("method", "keywords")
    if method not in ("keywords", "embedding"):
        raise matching.error(f"unknown method '{method}' (known: embedding, keywords)", "method")
    model_path = matching.get("model_path", str, None)
    model_sha256 = matching.get("model_sha256", str, None)
    if model_path and not (model_sha256 and re.fullmatch(r"[0-9a-f]{64}", model_sha256)):
        raise matching.error("a local model needs its model.safetensors sha256 (64 hex digits)", "model_sha256")
    aliases = matching.get("aliases", dict, {})
    for alias, code in aliases.items():
        if code not in codes:
            raise matching.error(f"'{alias}' maps to unknown case type '{code}'", "aliases")
    return MatchingSettings(method=method, min_score=matching.number("min_score", 0.5),
                            model_path=_relative(directory, model_path), model_sha256=model_sha256,
                            labels=_relative(directory, matching.get("labels", str, None)), aliases=dict(aliases),
                            release_after=matching.number("release_after", 10.0))


def _relative(directory: Path, value: str | None) -> Path | None:
    """Paths in watcher.toml are relative to the config directory."""
    return (directory / value).resolve() if value else None
