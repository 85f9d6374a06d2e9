"""Shared fixtures: a loopback HTTPS server (trustme CA), a real local SMTP server, config directories, and one
embedding cache for the session."""

from __future__ import annotations

import email
import shutil
import socket
from email.message import Message as EmailMessage
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller

from watcher.config import HttpSettings
from watcher.store import Store

from .loopback import Loopback, Reply, Webhook, tls_context  # noqa: F401  (Reply is re-exported for tests)

REPO = Path(__file__).resolve().parents[1]
# Verbatim copies of ../shared/fixtures (see tests/data/fixtures/SOURCES.md), so the suite runs from any clone.
SHARED = REPO / "tests" / "data"


@pytest.fixture(scope="session")
def ca(tmp_path_factory) -> tuple[trustme.CA, Path]:
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, path


@pytest.fixture
def server(ca):
    loopback = Loopback(tls_context(ca[0]))
    yield loopback
    loopback.close()


@pytest.fixture
def http_settings(ca) -> HttpSettings:
    return HttpSettings(user_agent="watcher-test (it-admin@firm.example)", connect_timeout=2, read_timeout=2,
                        deadline=10, max_bytes=1_000_000, max_redirects=3, allowed_hosts=("127.0.0.1",),
                        ca_bundle=str(ca[1]), allow_loopback=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    def __init__(self):
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.url = f"mailto://127.0.0.1:{controller.port}?from=watcher@firm.example&to=attorneys@firm.example"
    yield mailbox
    controller.stop()


WATCHER_TOML = """
[storage]
path = "{db}"

[http]
user_agent = "watcher-test (it-admin@firm.example)"
connect_timeout = 2
read_timeout = 2
deadline = 10
max_bytes = 1000000
allowed_hosts = ["127.0.0.1"]
ca_bundle = "{ca}"
allow_loopback = true
"""


@pytest.fixture
def make_config(tmp_path, ca):
    """Write a config directory: sources as (id, url) pairs, plus optional extra watcher.toml text."""

    def make(sources: list[tuple[str, str]], extra: str = "", kind: str = "rss") -> Path:
        directory = tmp_path / "config"
        directory.mkdir(exist_ok=True)
        (directory / "watcher.toml").write_text(
            WATCHER_TOML.format(db=tmp_path / "watcher.db", ca=ca[1]) + extra)
        (directory / "sources.toml").write_text("".join(
            f'[[source]]\nid = "{sid}"\nkind = "{kind}"\nurl = "{url}"\nschedule = "30m"\n\n'
            for sid, url in sources))
        shutil.copy(REPO / "config" / "case_types.toml", directory / "case_types.toml")
        return directory

    return make


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture(scope="session")
def cache_store(tmp_path_factory):
    """One embedding cache for the session: the labeled items are embedded once, whichever test trains first."""
    store = Store(tmp_path_factory.mktemp("cache") / "embeddings.db")
    yield store
    store.close()


@pytest.fixture(scope="session")
def trained_matcher(cache_store):
    """The learned matcher with the packaged model, trained once per session on the bundled train split."""
    from watcher import config
    from watcher.matching.citations import SignalExtractor
    from watcher.matching.encoder import Encoder
    from watcher.matching.labels import load_labeled
    from watcher.matching.learned import LearnedMatcher
    from watcher.matching.relations import Relations

    bundled = config.load(REPO / "config")
    labeled = load_labeled(REPO / "watcher" / "data" / "labeled.jsonl", [c.code for c in bundled.case_types])
    learned = LearnedMatcher(Encoder(cache=cache_store.embeddings), SignalExtractor(bundled.case_types),
                             Relations(bundled.relations))
    learned.train([i for i in labeled if i.split == "train"])
    return learned
