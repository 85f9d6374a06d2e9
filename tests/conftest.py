"""Shared fixtures: a loopback HTTPS server (trustme CA), a real local SMTP server, config directories."""

from __future__ import annotations

import email
import shutil
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import pytest
import trustme
from aiosmtpd.controller import Controller

from watcher.config import HttpSettings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)


class Loopback:
    """An HTTPS server on 127.0.0.1. Each path answers a fixed Reply or runs a handler function."""

    def __init__(self, context: ssl.SSLContext):
        self.routes: dict[str, Reply | Callable[[BaseHTTPRequestHandler], None]] = {}
        self.requests: list[tuple[str, dict]] = []
        self.release = threading.Event()  # handlers that hold a connection wait on this, never on a clock
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                outer.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = outer.routes.get(self.path)
                if route is None:
                    route = Reply(404, b"not found")
                if callable(route):
                    route(self)
                    return
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in route.headers:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> list[dict]:
        return [headers for p, headers in self.requests if p == path]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def ca(tmp_path_factory) -> tuple[trustme.CA, Path]:
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return authority, path


@pytest.fixture
def server(ca):
    authority, _ = ca
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    loopback = Loopback(context)
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
