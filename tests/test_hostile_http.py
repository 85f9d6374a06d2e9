"""Hardening round two, the fetch side (issue 25, classes 1, 4, 6 and 11): each test attacks a class of response
and asserts the bound: memory, wall-clock time, the classified error."""

from __future__ import annotations

import gzip
import ipaddress
import time
import tracemalloc
import zlib
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from watcher.errors import FetchError
from watcher.http import MAX_RETRY_AFTER, BodyDecoder, HttpClient, address_allowed, parse_retry_after

from .conftest import Reply

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def fetch_error(client, url) -> FetchError:
    with pytest.raises(FetchError) as info:
        client.get(url)
    return info.value


def gzip_stream(size: int) -> bytes:
    """gzip of `size` zero bytes, made a megabyte at a time (the bomb is never held whole)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    parts = [packer.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + packer.flush()


@pytest.fixture(scope="module")
def stacked_bomb() -> bytes:
    """256 MiB of zeros under two gzip layers: a few hundred bytes on the wire."""
    return gzip.compress(gzip_stream(256 << 20), 9)


# -- class 1: stacked encodings ------------------------------------------------------------------------------------

def test_stacked_encodings_are_refused_by_default(server, http_settings, stacked_bomb):
    assert len(stacked_bomb) < 7_000
    server.routes["/bomb"] = Reply(200, stacked_bomb, {"Content-Encoding": "gzip, gzip"})
    error = fetch_error(HttpClient(http_settings), server.url("/bomb"))
    assert error.error_class == "too_large" and "2 stacked Content-Encoding layers" in str(error)


@pytest.mark.parametrize("layers", [2, 3])
def test_stacked_encodings_allowed_by_config_decode_with_a_running_cap(server, http_settings, stacked_bomb, layers):
    body = stacked_bomb if layers == 2 else gzip.compress(stacked_bomb)
    server.routes["/bomb"] = Reply(200, body, {"Content-Encoding": ", ".join(["gzip"] * layers)})
    client = HttpClient(replace(http_settings, max_encodings=3, max_bytes=1_000_000))
    tracemalloc.start()
    try:
        error = fetch_error(client, server.url("/bomb"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error.error_class == "too_large"
    assert peak < 20_000_000  # httpx's own decoder allocates the whole 256 MiB for one chunk


def test_one_legitimate_layer_still_decodes(server, http_settings):
    feed = b"<rss>" + b"<item>x</item>" * 1000 + b"</rss>"
    server.routes["/gz"] = Reply(200, gzip.compress(feed), {"Content-Encoding": "gzip"})
    server.routes["/deflate"] = Reply(200, zlib.compress(feed), {"Content-Encoding": "deflate"})
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    server.routes["/raw"] = Reply(200, raw.compress(feed) + raw.flush(), {"Content-Encoding": "deflate"})
    client = HttpClient(http_settings)
    for path in ("/gz", "/deflate", "/raw"):
        assert client.get(server.url(path)).body == feed


@pytest.mark.parametrize("header, error_class", [("br", "transport"), ("gzip, compress", "transport"),
                                                 ("deflate, gzip", "too_large")])
def test_unknown_or_stacked_encodings_are_classified(header, error_class):
    with pytest.raises(FetchError) as info:
        BodyDecoder(header, 1000, 1, "https://x.example/")
    assert info.value.error_class == error_class


def test_corrupt_gzip_is_a_transport_error(server, http_settings):
    server.routes["/bad"] = Reply(200, b"\x1f\x8b\x08\x00garbage" * 10, {"Content-Encoding": "gzip"})
    assert fetch_error(HttpClient(http_settings), server.url("/bad")).error_class == "transport"


# -- class 4: one deadline over headers, redirects and body ---------------------------------------------------------

def drip_headers(server):
    def handler(request):
        request.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(400):  # 20 s at one byte each 50 ms; every read is well inside the read timeout
            request.wfile.write(b"X")
            request.wfile.flush()
            if server.release.wait(0.05):
                return
    return handler


def test_headers_dripping_stop_at_the_deadline(server, http_settings):
    server.routes["/drip"] = drip_headers(server)
    client = HttpClient(replace(http_settings, deadline=1, read_timeout=2))
    began = time.monotonic()
    error = fetch_error(client, server.url("/drip"))
    assert error.error_class == "deadline"
    assert time.monotonic() - began < 1 + 1.5


def test_slow_redirect_hops_share_one_deadline(server, http_settings):
    def slow_hop(request):
        server.release.wait(0.3)  # each hop alone is well inside the read timeout
        hop = int(request.path.rsplit("/", 1)[1])
        request.send_response(302)
        request.send_header("Location", f"/hop/{hop + 1}")
        request.send_header("Content-Length", "0")
        request.end_headers()
    for hop in range(12):
        server.routes[f"/hop/{hop}"] = slow_hop
    client = HttpClient(replace(http_settings, deadline=1, read_timeout=2, max_redirects=10))
    began = time.monotonic()
    error = fetch_error(client, server.url("/hop/0"))
    assert error.error_class == "deadline"  # without it: ten hops, 3 s, then "redirect"
    assert time.monotonic() - began < 1 + 1.5


def test_the_deadline_does_not_outlive_the_fetch(server, http_settings):
    """A pooled connection reused by the next fetch gets that fetch's deadline, not a stale one."""
    server.routes["/ok"] = Reply(200, b"fine")
    client = HttpClient(replace(http_settings, deadline=1))
    assert client.get(server.url("/ok")).body == b"fine"
    assert client._backend.deadline is None
    assert client.get(server.url("/ok")).body == b"fine"


# -- class 6: garbage Retry-After ------------------------------------------------------------------------------------

@pytest.mark.parametrize("header, expected", [
    ("99999999999999", NOW + MAX_RETRY_AFTER),
    ("9" * 5000, NOW + MAX_RETRY_AFTER),            # int() refuses strings this long
    ("²", None), ("١٢٠", None),                     # str.isdigit() says yes, int() or the RFC says no
    ("120\n", NOW + timedelta(seconds=120)),
    ("-5", None), ("1e9", None),
    ("Mon, 01 Jan 0000 00:00:00 GMT", NOW),         # year 0 reads as 2000: past, so retry now
    ("Fri, 31 Dec 9999 23:59:59 GMT", NOW + MAX_RETRY_AFTER),
    ("Sat, 30 Feb 2026 00:00:00 GMT", None),
])
def test_retry_after_garbage_never_raises(header, expected):
    assert parse_retry_after(header, NOW) == expected


def test_a_429_with_a_huge_retry_after_is_rate_limited_for_two_days(server, http_settings):
    server.routes["/limited"] = Reply(429, b"slow down", {"Retry-After": "99999999999999"})
    error = fetch_error(HttpClient(http_settings, now=lambda: NOW), server.url("/limited"))
    assert (error.error_class, error.retry_after) == ("rate_limited", NOW + MAX_RETRY_AFTER)


# -- class 11: IPv6 spellings of private addresses ------------------------------------------------------------------

@pytest.mark.parametrize("address", [
    "::127.0.0.1", "::10.0.0.5", "::ffff:0:127.0.0.1", "::ffff:0:169.254.169.254",
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::7f00:1", "64:ff9b:1::808:808",
    "2002:7f00:1::", "2002:a00:5::1", "2002:c0a8:101::1", "fec0::1", "feff::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
])
def test_ipv6_forms_of_private_addresses_are_refused(address):
    assert not address_allowed(ipaddress.ip_address(address), allow_loopback=False)


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "2606:4700::1111"])
def test_public_addresses_behind_nat64_or_6to4_stay_allowed(address):
    assert address_allowed(ipaddress.ip_address(address), allow_loopback=False)


def test_loopback_spelled_in_ipv6_follows_allow_loopback():
    assert address_allowed(ipaddress.ip_address("::ffff:0:127.0.0.1"), allow_loopback=True) is False
    assert address_allowed(ipaddress.ip_address("::1"), allow_loopback=True) is True
