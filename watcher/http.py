"""The one way watcher fetches anything.

Guarantees, each tested: https only and a host allowlist on every hop; at most `max_redirects` hops;
connect and read timeouts plus ONE wall-clock deadline over connect, TLS, headers, every redirect hop and the
body (a read timeout alone lets a server drip one byte a second forever); at most `max_encodings`
Content-Encoding layers, decoded here with a running cap (httpx would decode a whole chunk before any cap could
see it); conditional GET with validators echoed verbatim; Retry-After honoured; every failure raised as a
FetchError with an operator-facing class.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Callable
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from .config import HttpSettings, host_allowed
from .errors import FetchError
from .models import Fetched, Validators

REDIRECTS = {301, 302, 303, 307, 308}
MAX_RETRY_AFTER = timedelta(days=2)  # FreshRSS's cap: a server may not park a source for longer


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


_DELTA_SECONDS = re.compile(r"[0-9]+")  # ASCII digits only: str.isdigit() accepts "²", which int() refuses


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """Retry-After as delta-seconds or an HTTP-date, clamped to [now, now+2 days]; garbage gives None."""
    if not value:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        # Clamp before timedelta sees it: "99999999999999" seconds overflows timedelta.
        seconds = int(value) if len(value) <= 9 else MAX_RETRY_AFTER.total_seconds()
        when = now + min(timedelta(seconds=seconds), MAX_RETRY_AFTER)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
    return min(max(when, now), now + MAX_RETRY_AFTER)


# 100.64.0.0/10 (CGNAT) is spelled out: ipaddress.is_global has treated it differently across Python versions.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# IPv6 ranges that carry an IPv4 address in their last 32 bits (RFC 6052 NAT64): judged by that address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Ranges Python 3.11 calls global that no agency serves from: IPv4-compatible (::a.b.c.d, deprecated),
# IPv4-translated (::ffff:0:a.b.c.d), local-use NAT64 (whose embedding depends on the local prefix length)
# and site-local (deprecated, routed inside a site only).
_NEVER = tuple(ipaddress.ip_network(n) for n in ("::/96", "::ffff:0:0:0/96", "64:ff9b:1::/48", "fec0::/10"))


def address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            address = embedded  # ::ffff:127.0.0.1, 2002:7f00:1::, 64:ff9b::7f00:1 are all 127.0.0.1
        elif address.is_loopback:
            return allow_loopback
        elif any(address in network for network in _NEVER):
            return False
    if address.is_loopback:
        return allow_loopback
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return False
    return address.is_global and not address.is_multicast


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


class GuardedBackend(httpcore.SyncBackend):
    """Resolves the host itself, refuses non-public addresses, connects to the address it checked, and holds
    every socket operation to the caller's wall-clock deadline.

    Checking at connect time, on every connection (so on every redirect hop too), leaves no window for DNS
    rebinding between a check and the connect. TLS still verifies the certificate against the hostname:
    httpcore takes server_hostname from the request, not from the address connected to.
    """

    def __init__(self, allow_loopback: bool):
        super().__init__()
        self.allow_loopback = allow_loopback
        self._deadline = threading.local()  # one HttpClient may serve the poller and a CLI command

    @property
    def deadline(self) -> float | None:
        """The time.monotonic() at which the current fetch must be over; None outside a fetch."""
        return getattr(self._deadline, "at", None)

    @deadline.setter
    def deadline(self, at: float | None) -> None:
        self._deadline.at = at

    def remaining(self, timeout: float | None) -> float | None:
        """The socket timeout for one operation: the configured one, cut to what is left of the deadline."""
        at = self.deadline
        if at is None:
            return timeout
        left = at - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("total deadline passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"name resolution failed for {host}: {exc}") from exc
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
        refused = [a for a in addresses if not address_allowed(a, self.allow_loopback)]
        if refused:
            raise BlockedAddress(f"{host} resolves to non-public address {refused[0]}")
        stream = super().connect_tcp(str(addresses[0]), port, self.remaining(timeout), local_address, socket_options)
        return DeadlineStream(stream, self)


class DeadlineStream(httpcore.NetworkStream):
    """A socket whose every read and write (so headers and redirect hops too, not just the body) times out at the
    fetch's deadline: a server dripping one header byte a second cannot outlive it."""

    def __init__(self, inner: httpcore.NetworkStream, backend: GuardedBackend):
        self._inner, self._backend = inner, backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._backend.remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._backend.remaining(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        tls = self._inner.start_tls(ssl_context, server_hostname, self._backend.remaining(timeout))
        return DeadlineStream(tls, self._backend)

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class BlockedAddress(httpcore.ConnectError):
    pass


class BodyDecoder:
    """Undoes Content-Encoding layers with a running cap: every layer's output is bounded as it is produced, so a
    few kilobytes of stacked gzip cannot expand to gigabytes before anyone counts (zlib's max_length)."""

    KNOWN = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}

    def __init__(self, header: str, cap: int, max_layers: int, url: str):
        layers = [e.strip().lower() for e in header.split(",") if e.strip() and e.strip().lower() != "identity"]
        unknown = [e for e in layers if e not in self.KNOWN]
        if unknown:
            raise FetchError("transport", f"{url}: unsupported Content-Encoding '{unknown[0][:40]}'")
        if len(layers) > max_layers:
            raise FetchError("too_large", f"{url}: {len(layers)} stacked Content-Encoding layers, "
                                          f"at most {max_layers} accepted")
        self.url, self.cap = url, cap
        # Applied in the order listed, so undone in reverse.
        self.layers = [_Layer(name, zlib.decompressobj(self.KNOWN[name])) for name in reversed(layers)]

    def feed(self, data: bytes) -> bytes:
        for layer in self.layers:
            data = self._inflate(layer, data)
        return data

    def flush(self) -> bytes:
        """What the layers still hold at the end of the body, passed down through the later layers."""
        data = b""
        for layer in self.layers:
            data = self._inflate(layer, data) + layer.inflater.flush()
        return data

    def _inflate(self, layer: _Layer, data: bytes) -> bytes:
        try:
            out = layer.inflater.decompress(data, self.cap - layer.produced + 1)
        except zlib.error as exc:
            if layer.name == "deflate" and layer.produced == 0:
                # Some servers send raw deflate without the zlib header (httpx falls back the same way).
                layer.name, layer.inflater = "raw deflate", zlib.decompressobj(-zlib.MAX_WBITS)
                return self._inflate(layer, data)
            raise FetchError("transport", f"{self.url}: body could not be decoded ({layer.name}): {exc}") from None
        layer.produced += len(out)
        if layer.produced > self.cap or layer.inflater.unconsumed_tail:
            raise FetchError("too_large", f"{self.url} body exceeds {self.cap} bytes once decoded")
        return out


@dataclass
class _Layer:
    name: str
    inflater: "zlib._Decompress"
    produced: int = 0


class HttpClient:
    """A small wrapper around one httpx.Client; `clock` is injectable so the deadline is testable."""

    def __init__(self, settings: HttpSettings, *, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = utcnow):
        self.settings = settings
        self._clock = clock
        self._now = now
        verify: ssl.SSLContext | bool = True
        if settings.ca_bundle:
            verify = ssl.create_default_context(cafile=settings.ca_bundle)
        transport = httpx.HTTPTransport(verify=verify, trust_env=False, retries=1)
        # httpx has no public hook for the network backend; the pool is where httpcore takes it.
        self._backend = GuardedBackend(settings.allow_loopback)
        transport._pool._network_backend = self._backend
        self._client = httpx.Client(
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            follow_redirects=False,  # each hop is re-validated below
            transport=transport,
            trust_env=False,  # no proxy or CA from the environment sneaks in
        )

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, validators: Validators | None = None, accept: str = "*/*",
            headers: dict[str, str] | None = None) -> Fetched:
        """`headers` may carry a credential (an API token); it is never logged or stored."""
        start = self._clock()
        self._backend.deadline = time.monotonic() + self.settings.deadline
        try:
            return self._get(url, validators, accept, headers, start)
        finally:
            self._backend.deadline = None

    def _get(self, url: str, validators: Validators | None, accept: str, headers: dict[str, str] | None,
             start: float) -> Fetched:
        headers = {"Accept": accept, **(headers or {})}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        for _hop in range(self.settings.max_redirects + 1):
            self._check_url(url)
            response = self._send(url, headers, start)
            if response.status not in REDIRECTS:
                return response_to_fetched(url, response, validators)
            location = response.headers.get("location")
            if not location:
                raise FetchError("redirect", f"{response.status} without a Location header from {url}")
            url = urljoin(url, location)
        raise FetchError("redirect", f"more than {self.settings.max_redirects} redirects, last to {url}")

    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "https":
            raise FetchError("refused_url", f"refusing non-https URL {url}")
        host = parts.hostname or ""
        if not host_allowed(host, self.settings.allowed_hosts):
            raise FetchError("refused_url", f"host '{host}' is not in http.allowed_hosts")
        if _is_ip_literal(host) and not self._address_allowed(host):
            raise FetchError("refused_url", f"refusing non-public address {host}")

    def _address_allowed(self, host: str) -> bool:
        return address_allowed(ipaddress.ip_address(host), self.settings.allow_loopback)

    def _send(self, url: str, headers: dict[str, str], start: float) -> _Response:
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code >= 400:
                    raise self._status_error(url, response)
                body = b""
                if response.status_code == 200:
                    body = self._read_capped(url, response, start)
                return _Response(response.status_code, {k.lower(): v for k, v in response.headers.items()},
                                 body, response.num_bytes_downloaded)
        except httpx.HTTPError as exc:
            if isinstance(exc, httpx.TimeoutException) and time.monotonic() >= (self._backend.deadline or 0):
                raise self._deadline_error(url) from None
            raise classify_transport_error(url, exc) from None

    def _read_capped(self, url: str, response: httpx.Response, start: float) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.settings.max_bytes:
            raise FetchError("too_large", f"{url} declares {declared} bytes, cap is {self.settings.max_bytes}")
        decoder = BodyDecoder(response.headers.get("content-encoding", ""), self.settings.max_bytes,
                              self.settings.max_encodings, url)
        chunks: list[bytes] = []
        size = 0
        for raw in response.iter_raw():  # raw: the decoder below counts what gzip expands to as it expands
            chunk = decoder.feed(raw)
            size += len(chunk)
            if size > self.settings.max_bytes:
                raise FetchError("too_large", f"{url} body exceeds {self.settings.max_bytes} bytes")
            if self._clock() - start > self.settings.deadline:
                raise self._deadline_error(url)
            chunks.append(chunk)
        chunks.append(decoder.flush())
        if size + len(chunks[-1]) > self.settings.max_bytes:
            raise FetchError("too_large", f"{url} body exceeds {self.settings.max_bytes} bytes")
        body = b"".join(chunks)
        if not body.strip():
            raise FetchError("empty", f"{url} answered 200 with an empty body")
        return body

    def _deadline_error(self, url: str) -> FetchError:
        return FetchError("deadline", f"{url} took longer than the {self.settings.deadline:g}s deadline")

    def _status_error(self, url: str, response: httpx.Response) -> FetchError:
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("retry-after"), self._now())
        if status == 429 or (status == 503 and retry_after):
            return FetchError("rate_limited" if status == 429 else "server_error",
                              f"{url} answered {status}", retry_after=retry_after)
        if status == 403 and response.headers.get("cf-mitigated", "").lower() == "challenge":
            return FetchError("blocked", f"{url} answered 403 with a bot challenge")
        classes = {401: "unauthorized", 403: "forbidden", 404: "not_found", 410: "not_found"}
        error_class = classes.get(status, "server_error" if status >= 500 else "http_error")
        return FetchError(error_class, f"{url} answered {status}")


@dataclass(frozen=True)
class _Response:
    status: int
    headers: dict[str, str]
    body: bytes
    bytes_received: int


def response_to_fetched(url: str, response: _Response, sent: Validators | None) -> Fetched:
    if response.status not in (200, 304):
        raise FetchError("http_error", f"{url} answered {response.status}, expected 200 or 304")
    return Fetched(url=url, status=response.status, body=response.body, headers=response.headers,
                   validators=new_validators(response.headers, response.status, sent),
                   bytes_received=response.bytes_received)


def new_validators(headers: dict[str, str], status: int, sent: Validators | None) -> Validators:
    """Validators to store: verbatim from the server; on 304 keep the old ETag but take a new Last-Modified."""
    if headers.get("expires", "").strip() == "0":
        return Validators()  # the server says never reuse this response (miniflux does the same)
    etag, last_modified = headers.get("etag"), headers.get("last-modified")
    if status == 304 and sent:
        return Validators(etag=etag or sent.etag, last_modified=last_modified or sent.last_modified)
    return Validators(etag=etag, last_modified=last_modified)


def classify_transport_error(url: str, exc: httpx.HTTPError) -> FetchError:
    if "resolves to non-public address" in str(exc):
        return FetchError("refused_url", f"{url}: SSRF blocked: {exc}")
    if isinstance(exc, httpx.TimeoutException):
        return FetchError("timeout", f"{url}: {type(exc).__name__}")
    cause = exc.__cause__ or exc.__context__
    chain = []
    while cause is not None and len(chain) < 6:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    if any(isinstance(c, socket.gaierror) for c in chain) or "name resolution failed" in str(exc) \
            or "Name or service not known" in str(exc) \
            or "Temporary failure in name resolution" in str(exc):
        return FetchError("dns", f"{url}: name resolution failed")
    if any(isinstance(c, ssl.SSLError) for c in chain) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return FetchError("tls", f"{url}: TLS verification failed: {exc}")
    if isinstance(exc, httpx.ConnectError):
        return FetchError("connect", f"{url}: cannot connect: {exc}")
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return FetchError("transport", f"{url}: connection broke mid-response: {exc}")
    if isinstance(exc, httpx.DecodingError):
        return FetchError("transport", f"{url}: body could not be decoded: {exc}")
    return FetchError("transport", f"{url}: {type(exc).__name__}: {exc}")


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
