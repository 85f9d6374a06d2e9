"""Changes, their versions, and the matches each version got."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Iterable

from sqlite_utils import Database

from ..decide import docket_key, presidential_identity
from ..meaning import canonical_url, plain
from ..models import Decision, Match, Status, StoredChange, StoredVersion
from .timefmt import to_text

# Facts another source wrote onto a stored change (Changes.annotate): kept when the change's own source updates it.
ANNOTATIONS = ("published_as", "same_as", "cancelled_by")


class Changes:
    def __init__(self, db: Database):
        self._db = db

    def latest_versions(self, source_id: str, keys: Iterable[str]) -> dict[str, StoredVersion]:
        keys = list(keys)
        found: dict[str, StoredVersion] = {}
        for start in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._db.query(
                f"SELECT id, item_key, version, content_hash, title, summary, url, facts FROM changes "
                f"WHERE source_id = ? AND item_key IN ({marks})", [source_id, *chunk]):
                found[row["item_key"]] = StoredVersion(row["id"], row["version"], row["content_hash"],
                                                       row["title"], row["summary"], row["url"] or "",
                                                       json.loads(row["facts"] or "{}"))
        return found

    def save(self, decision: Decision, now: datetime, *, baseline: bool) -> int:
        """Insert a NEW item or bump an UPDATED one; always adds the version row. Returns the change id."""
        c = decision.change
        kept = {k: v for k, v in (decision.previous.facts if decision.previous else {}).items()
                if k in ANNOTATIONS and k not in c.facts}
        facts = json.dumps({**c.facts, **kept}, sort_keys=True, default=str)
        row = {"title": c.title, "summary": c.summary, "url": c.url, "published": to_text(c.published),
               "facts": facts, "content_hash": c.content_hash, "version": decision.version,
               "updated_at": to_text(now), "kind": c.kind, "canonical_url": canonical_url(c.url),
               "plain_title": plain(c.title).lower()}
        if decision.status is Status.NEW:
            change_id = self._db["changes"].insert(
                {**row, "source_id": c.source_id, "item_key": c.item_key, "first_seen_at": to_text(now)}
            ).last_pk
        else:
            assert decision.previous is not None
            change_id = decision.previous.change_id
            self._db["changes"].update(change_id, row)
        self._db["change_versions"].insert({
            "change_id": change_id, "version": decision.version, "content_hash": c.content_hash,
            "title": c.title, "summary": c.summary, "facts": facts, "seen_at": to_text(now),
            "baseline": int(baseline),
        })
        return change_id

    def save_matches(self, change_id: int, version: int, matches: Iterable[Match]) -> None:
        self._db["matches"].insert_all(
            ({"change_id": change_id, "version": version, "case_type": m.case_type, "score": m.score,
              "method": m.method, "rationale": m.rationale} for m in matches),
            pk=("change_id", "version", "case_type"), replace=True)

    def urls_elsewhere(self, source_id: str, urls: Iterable[str]) -> set[str]:
        """Which of these URLs (compared canonically) another source has already stored; returned canonical."""
        urls = sorted({canonical_url(u) for u in urls if u})
        found: set[str] = set()
        for start in range(0, len(urls), 500):
            chunk = urls[start:start + 500]
            found.update(r[0] for r in self._db.execute(
                f"SELECT canonical_url FROM changes WHERE source_id != ? "
                f"AND canonical_url IN ({','.join('?' * len(chunk))})", [source_id, *chunk]).fetchall())
        return found

    def titles_elsewhere(self, source_id: str, titles: Iterable[str], since: datetime) -> set[str]:
        """Which of these titles (compared as meaning.plain, lower-cased) another source stored since `since`:
        USCIS posts one announcement in two feeds, sometimes under two URLs."""
        titles = sorted({plain(t).lower() for t in titles if t})
        found: set[str] = set()
        for start in range(0, len(titles), 500):
            chunk = titles[start:start + 500]
            found.update(r[0] for r in self._db.execute(
                f"SELECT plain_title FROM changes WHERE source_id != ? AND first_seen_at >= ? "
                f"AND plain_title IN ({','.join('?' * len(chunk))})", [source_id, to_text(since), *chunk]).fetchall())
        return found

    def dockets_elsewhere(self, source_id: str, keys: Iterable[str]) -> set[str]:
        """Which of these court dockets (decide.docket_key) another source has already stored."""
        wanted = set(keys)
        if not wanted:
            return set()
        courts = sorted({k.split(" ", 1)[0] for k in wanted})
        rows = self._db.execute(
            "SELECT kind, facts FROM changes WHERE source_id != ? AND kind = 'court_opinion' "
            f"AND lower(json_extract(facts, '$.court')) IN ({','.join('?' * len(courts))})",
            [source_id, *courts]).fetchall()
        stored = (docket_key(kind, json.loads(facts)) for kind, facts in rows)
        return wanted & {k for k in stored if k}

    def presidential_elsewhere(self, source_id: str, since: str) -> list[tuple[int, tuple[str, str]]]:
        """(change id, identity) of the presidential documents another source stored first (decide.
        presidential_identity), signed or posted on or after `since` (YYYY-MM-DD). A copy already recognised as
        another's (`same_as`) is not offered: the first source's change is the one that carries the story."""
        rows = self._db.execute(
            "SELECT id, title, facts FROM changes WHERE source_id != ? AND kind = 'presidential_document' AND "
            "json_extract(facts, '$.same_as') IS NULL AND "
            "coalesce(json_extract(facts, '$.signing_date'), json_extract(facts, '$.posted_on')) >= ?",
            [source_id, since]).fetchall()
        found = ((change_id, presidential_identity("presidential_document", title, json.loads(facts)))
                 for change_id, title, facts in rows)
        return [(change_id, identity) for change_id, identity in found if identity]

    def memoranda(self, numbers: Iterable[str]) -> dict[str, tuple[int, str]]:
        """Stored EOIR memoranda by number ("DM 22-03"), any source: {number: (change id, subject)}."""
        wanted, found = sorted(set(numbers)), {}
        for start in range(0, len(wanted), 500):  # stay under SQLite's bound-parameter limit
            chunk = wanted[start:start + 500]
            for change_id, number, subject in self._db.execute(
                    "SELECT id, json_extract(facts, '$.number'), json_extract(facts, '$.subject') FROM changes "
                    f"WHERE kind = 'eoir_policy_memo' AND json_extract(facts, '$.number') IN "
                    f"({','.join('?' * len(chunk))}) ORDER BY id", chunk).fetchall():
                found[number] = (change_id, subject or "")
        return found

    def annotate(self, change_id: int, key: str, value: Any, now: datetime) -> None:
        """A new version of a stored change with one more fact (`key`), written by another source: the Federal
        Register's citation on the White House's proclamation. Its content hash stays the hash of its own
        source's content, so that source's next fetch of the same post is unchanged, not an update."""
        row = self._db.execute("SELECT version, content_hash, title, summary, facts FROM changes WHERE id = ?",
                               [change_id]).fetchone()
        if row is None:
            return
        version, content_hash, title, summary, facts = row
        merged = json.loads(facts or "{}")
        if merged.get(key) == value:
            return
        merged[key] = value
        text = json.dumps(merged, sort_keys=True, default=str)
        # The version's matches are the change's own: the copy adds a citation, not a reader.
        matches = self.current_matches(change_id)
        self._db["changes"].update(change_id, {"facts": text, "version": version + 1, "updated_at": to_text(now)})
        self._db["change_versions"].insert({
            "change_id": change_id, "version": version + 1, "content_hash": content_hash, "title": title,
            "summary": summary, "facts": text, "seen_at": to_text(now), "baseline": 0})
        self.save_matches(change_id, version + 1, matches)

    def titled(self, prefixes: Iterable[str], exclude: Iterable[int] = ()) -> list[tuple[int, str, str]]:
        """Stored changes (id, title, summary), oldest first, whose title may begin with one of these lowercased
        prefixes: SQLite lowers ASCII only, so the caller makes the exact test. `exclude` names changes to leave
        out."""
        skip = set(exclude)
        found: dict[int, tuple[int, str, str]] = {}
        for prefix in set(prefixes):
            for row in self._db.execute("SELECT id, title, summary FROM changes WHERE lower(substr(title, 1, ?)) = "
                                        "lower(?)", [len(prefix), prefix]).fetchall():
                if row[0] not in skip:
                    found[row[0]] = tuple(row)
        return [found[k] for k in sorted(found)]

    def current_matches(self, change_id: int) -> list[Match]:
        """The matches the change's current version got."""
        return [Match(*row) for row in self._db.execute(
            "SELECT case_type, score, method, rationale FROM matches m JOIN changes c ON c.id = m.change_id "
            "AND c.version = m.version WHERE c.id = ? ORDER BY m.score DESC, m.case_type", [change_id]).fetchall()]

    def matched_codes(self, change_id: int) -> set[str]:
        return {m.case_type for m in self.current_matches(change_id)}

    def exists(self, change_id: int) -> bool:
        return self._db.execute("SELECT 1 FROM changes WHERE id = ?", [change_id]).fetchone() is not None

    def previous_facts(self, source_id: str, item_key: str) -> dict | None:
        """Facts of the stored item whose key sorts just before `item_key` (the previous bulletin month)."""
        row = self._db.execute("SELECT facts FROM changes WHERE source_id = ? AND item_key < ? "
                               "ORDER BY item_key DESC LIMIT 1", [source_id, item_key]).fetchone()
        return json.loads(row[0]) if row else None

    def facts_of_kind(self, kind: str, item_key: str) -> dict | None:
        """Facts of the newest stored item of `kind` under `item_key`, whichever source stored it (the month's
        chart choice for a bulletin of that month)."""
        row = self._db.execute("SELECT facts FROM changes WHERE kind = ? AND item_key = ? ORDER BY updated_at DESC "
                               "LIMIT 1", [kind, item_key]).fetchone()
        return json.loads(row[0]) if row else None

    def count(self, source_id: str) -> int:
        return self._db.execute("SELECT count(*) FROM changes WHERE source_id = ?", [source_id]).fetchone()[0]

    def listing(self, since: datetime | None = None, limit: int = 200) -> list[StoredChange]:
        """The changes a person reads, newest first: a copy recognised as another's (`same_as`) is left out."""
        sql = """SELECT c.*, (SELECT group_concat(m.case_type, ',') FROM matches m
                               WHERE m.change_id = c.id AND m.version = c.version) AS case_types
                 FROM changes c WHERE c.updated_at >= ? AND json_extract(c.facts, '$.same_as') IS NULL
                 ORDER BY c.updated_at DESC, c.id DESC LIMIT ?"""
        return [
            StoredChange(id=r["id"], source_id=r["source_id"], item_key=r["item_key"], version=r["version"],
                         title=r["title"], url=r["url"], published=r["published"],
                         first_seen_at=r["first_seen_at"], updated_at=r["updated_at"],
                         case_types=tuple(sorted(filter(None, (r["case_types"] or "").split(",")))))
            for r in self._db.query(sql, [to_text(since) or "", limit])
        ]
