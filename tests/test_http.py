"""http.py against a loopback HTTPS server: every guarantee the module docstring promises."""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from watcher.errors import FetchError
from watcher.http import HttpClient, new_validators, parse_retry_after
from watcher.models import Validators

from .conftest import Reply

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def client(http_settings):
    c = HttpClient(http_settings, now=lambda: NOW)
    yield c
    c.close()


def fetch_error(client, url, **kwargs) -> FetchError:
    with pytest.raises(FetchError) as info:
        client.get(url, **kwargs)
    return info.value


def test_sends_user_agent_and_returns_body_and_validators(server, client):
    server.routes["/f"] = Reply(200, b"<rss/>", {"ETag": 'W/"abc"', "Last-Modified": "Wed, 01 Jul 2026 10:00:00 GMT"})
    fetched = client.get(server.url("/f"))
    assert fetched.body == b"<rss/>" and fetched.status == 200
    assert fetched.validators == Validators('W/"abc"', "Wed, 01 Jul 2026 10:00:00 GMT")
    assert server.hits("/f")[0]["user-agent"] == "watcher-test (it-admin@firm.example)"


def test_conditional_get_echoes_validators_verbatim_and_304_keeps_them(server, client):
    server.routes["/f"] = Reply(304, b"", {"Last-Modified": "Thu, 02 Jul 2026 10:00:00 GMT"})
    sent = Validators('"v1"', "Wed, 01 Jul 2026 10:00:00 GMT")
    fetched = client.get(server.url("/f"), sent)
    headers = server.hits("/f")[0]
    assert headers["if-none-match"] == '"v1"'
    assert headers["if-modified-since"] == "Wed, 01 Jul 2026 10:00:00 GMT"
    assert fetched.not_modified
    # RFC 9111 4.3.4: a 304 may refresh Last-Modified; the ETag we had stays.
    assert fetched.validators == Validators('"v1"', "Thu, 02 Jul 2026 10:00:00 GMT")


def test_expires_zero_means_store_no_validators():
    assert new_validators({"etag": '"x"', "expires": "0"}, 200, None) == Validators()


def test_read_timeout_is_classified(server, http_settings):
    def hold(request):
        server.release.wait(5)  # never answers while the test runs; released at teardown
    server.routes["/slow"] = hold
    client = HttpClient(replace(http_settings, read_timeout=0.2))
    assert fetch_error(client, server.url("/slow")).error_class == "timeout"


def test_total_deadline_stops_a_body_that_keeps_coming(server, http_settings):
    """A server can keep every read under the read timeout and still never finish: the deadline ends it."""
    def drip(request):
        request.send_response(200)
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        for _ in range(200):
            request.wfile.write(b"400\r\n" + b"x" * 1024 + b"\r\n")
        request.wfile.write(b"0\r\n\r\n")
    server.routes["/drip"] = drip
    ticks = iter(range(10_000))
    client = HttpClient(replace(http_settings, deadline=5), clock=lambda: float(next(ticks)))
    error = fetch_error(client, server.url("/drip"))
    assert error.error_class == "deadline"


def test_body_cap_on_declared_length(server, http_settings):
    server.routes["/big"] = Reply(200, b"x" * 2000)
    client = HttpClient(replace(http_settings, max_bytes=1000))
    assert fetch_error(client, server.url("/big")).error_class == "too_large"


def test_body_cap_counts_decompressed_bytes(server, http_settings):
    bomb = gzip.compress(b"\0" * 5_000_000)  # ~5 KB on the wire, 5 MB once decoded
    assert len(bomb) < 10_000
    server.routes["/bomb"] = Reply(200, bomb, {"Content-Encoding": "gzip"})
    client = HttpClient(replace(http_settings, max_bytes=1_000_000))
    assert fetch_error(client, server.url("/bomb")).error_class == "too_large"


def test_empty_body_is_an_error(server, client):
    server.routes["/empty"] = Reply(200, b"  \n")
    assert fetch_error(client, server.url("/empty")).error_class == "empty"


def redirect(location: str) -> Reply:
    return Reply(301, b"", {"Location": location})


def test_follows_a_redirect_within_the_allowlist(server, client):
    server.routes["/old"] = redirect("/new")
    server.routes["/new"] = Reply(200, b"moved")
    fetched = client.get(server.url("/old"))
    assert fetched.body == b"moved" and fetched.url == server.url("/new")


def test_redirect_limit(server, client):  # max_redirects = 3 in the test settings
    for i in range(5):
        server.routes[f"/r{i}"] = redirect(f"/r{i + 1}")
    server.routes["/r5"] = Reply(200, b"too far")
    assert fetch_error(client, server.url("/r0")).error_class == "redirect"
    assert len(server.requests) == 4


def test_redirect_loop_ends(server, client):
    server.routes["/a"] = redirect("/b")
    server.routes["/b"] = redirect("/a")
    assert fetch_error(client, server.url("/a")).error_class == "redirect"


def test_downgrade_to_http_is_refused(server, client):
    server.routes["/f"] = redirect(f"http://127.0.0.1:{server.port}/plain")
    error = fetch_error(client, server.url("/f"))
    assert error.error_class == "refused_url" and "non-https" in str(error)
    assert [p for p, _ in server.requests] == ["/f"]


def test_redirect_to_a_host_outside_the_allowlist_is_refused(server, client):
    server.routes["/f"] = redirect("https://evil.example/")
    assert fetch_error(client, server.url("/f")).error_class == "refused_url"


def test_loopback_refused_unless_explicitly_allowed(server, http_settings):
    client = HttpClient(replace(http_settings, allow_loopback=False))
    assert fetch_error(client, server.url("/f")).error_class == "refused_url"
    assert server.requests == []


@pytest.mark.parametrize("header, expected", [
    ("120", NOW + timedelta(seconds=120)),
    ("Fri, 27 Nov 2026 13:00:00 GMT", NOW + timedelta(hours=1)),
    ("0", NOW),
    ("soon", None),
    ("999999999", NOW + timedelta(days=2)),          # clamped
    ("Fri, 27 Nov 2020 13:00:00 GMT", NOW),           # in the past: now
])
def test_parse_retry_after(header, expected):
    assert parse_retry_after(header, NOW) == expected


@pytest.mark.parametrize("status, retry_after, error_class, expected_until", [
    (429, "120", "rate_limited", NOW + timedelta(seconds=120)),
    (429, "Fri, 27 Nov 2026 13:00:00 GMT", "rate_limited", NOW + timedelta(hours=1)),
    (503, "60", "server_error", NOW + timedelta(seconds=60)),
    (429, "garbage", "rate_limited", None),
])
def test_retry_after_is_carried_on_the_error(server, client, status, retry_after, error_class, expected_until):
    server.routes["/f"] = Reply(status, b"", {"Retry-After": retry_after})
    error = fetch_error(client, server.url("/f"))
    assert (error.error_class, error.retry_after) == (error_class, expected_until)


@pytest.mark.parametrize("status, headers, error_class", [
    (500, {}, "server_error"), (502, {}, "server_error"), (504, {}, "server_error"),
    (404, {}, "not_found"), (410, {}, "not_found"), (401, {}, "unauthorized"),
    (403, {}, "forbidden"), (403, {"cf-mitigated": "challenge"}, "blocked"), (418, {}, "http_error"),
])
def test_status_classes(server, client, status, headers, error_class):
    server.routes["/f"] = Reply(status, b"body", headers)
    assert fetch_error(client, server.url("/f")).error_class == error_class


def test_untrusted_certificate_is_a_tls_error(server, http_settings):
    client = HttpClient(replace(http_settings, ca_bundle=None))  # system CAs do not trust the test CA
    assert fetch_error(client, server.url("/f")).error_class == "tls"


def test_connection_refused_is_classified(http_settings):
    from .conftest import free_port
    client = HttpClient(http_settings)
    assert fetch_error(client, f"https://127.0.0.1:{free_port()}/").error_class == "connect"
