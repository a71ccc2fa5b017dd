"""The HTTP service: outgoing requests of the HTTP keywords (DIALECT §9.7), with an egress
policy, timeouts and a response-size limit.

``HttpService.request(method, url, ...)`` returns an ``HttpResult`` (status, reason,
headers, body bytes, final url). It raises ``BasicError`` — never an aiohttp exception —
for a refused destination, a network failure, a timeout or an oversized response; an HTTP
error status is a normal result (the keywords decide what it means).

Egress policy (SSRF protection, §9.7.1): before connecting, the host name is checked and
every address it resolves to must be public. Loopback, private (10/8, 172.16/12,
192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), unspecified, multicast,
reserved and cloud metadata destinations are refused with "blocked by the egress policy:
...". The check runs inside the connector's resolver, so the addresses checked are the ones
connected to (a name cannot resolve to a public address for the check and to a private one
for the connection), and again for every redirect target, which is followed by hand.
``http-allow-hosts`` (config.csv, comma-separated host names, ``*.suffix`` patterns, IP
addresses or CIDRs) lets chosen destinations through — tests use it for local servers.

Settings (``HttpService.from_config``): ``http-timeout-secs`` (replaces the keywords'
defaults: 30 s for GET, 60 s for POST ..., 120 s for SOAP), ``http-connect-timeout-secs``
(10 s), ``http-max-bytes`` (10 MiB), ``http-max-redirects`` (10), ``http-allow-hosts``.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional, Union

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from ..errors import BasicError

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

DEFAULT_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 10

# Instance metadata endpoints of the cloud providers: reachable from inside a VM and full
# of credentials, so they are refused by name and by address.
METADATA_HOSTS = frozenset((
    "metadata", "metadata.google.internal", "metadata.goog", "metadata.azure.internal",
    "instance-data", "instance-data.ec2.internal", "metadata.packet.net",
    "metadata.tencentyun.com", "metadata.platformequinix.com",
))
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean ...
    "169.254.170.2",  # AWS ECS task metadata
    "169.254.169.253",  # AWS DNS resolver
    "fd00:ec2::254",  # AWS IPv6 metadata
    "100.100.100.200",  # Alibaba Cloud
    "192.0.0.192",  # Oracle Cloud
))

_REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))
_CHUNK = 64 * 1024


class EgressBlocked(BasicError):
    """A destination refused by the egress policy."""

    def __init__(self, host: str, reason: str):
        super().__init__(f"blocked by the egress policy: {host} ({reason}); "
                         f"list it in http-allow-hosts to allow it")
        self.host = host
        self.reason = reason


# ---------------------------------------------------------------- egress policy


def address_problem(address: IPAddress) -> Optional[str]:
    """Why ``address`` is not a public destination, or None when it is one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_problem(address.ipv4_mapped)  # ::ffff:127.0.0.1 is loopback
    if address in METADATA_ADDRESSES:
        return "cloud metadata address"
    checks = (("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
              ("link-local", address.is_link_local), ("private", address.is_private),
              ("multicast", address.is_multicast), ("reserved", address.is_reserved))
    for reason, applies in checks:
        if applies:
            return f"{reason} address"
    if not address.is_global:  # shared address space (100.64/10), documentation ranges ...
        return "not a public address"
    return None


def normalize_host(host: str) -> str:
    """Host names compare in lower case, without the trailing dot of a fully qualified name."""
    return host.strip().rstrip(".").lower()


def parse_address(text: str) -> Optional[IPAddress]:
    """The IP address written in ``text`` (brackets allowed for IPv6), else None."""
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class EgressPolicy:
    """Which destinations requests may reach (see module doc).

    ``allowed_hosts`` are normalised host names, ``*.example.org`` matches subdomains;
    ``allowed_networks`` are IP networks (a single address is a /32 or /128).
    """

    allowed_hosts: frozenset = frozenset()
    allowed_networks: tuple = ()

    @classmethod
    def from_setting(cls, text: Optional[str]) -> "EgressPolicy":
        """The policy of an ``http-allow-hosts`` value: ``"127.0.0.1, 10.0.0.0/8, api.local"``."""
        return cls.allowing((text or "").replace(";", ",").split(","))

    @classmethod
    def allowing(cls, entries: Iterable[str]) -> "EgressPolicy":
        """The policy allowing each host name, pattern, address or CIDR of ``entries``."""
        hosts, networks = set(), []
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            network = _parse_network(entry)
            if network is not None:
                networks.append(network)
            else:
                hosts.add(normalize_host(entry))
        return cls(frozenset(hosts), tuple(networks))

    def host_allowed(self, host: str) -> bool:
        """Whether the host name itself is on the allow-list."""
        name = normalize_host(host)
        if name in self.allowed_hosts:
            return True
        return any(pattern.startswith("*.") and name.endswith(pattern[1:])
                   for pattern in self.allowed_hosts)

    def address_allowed(self, address: IPAddress) -> bool:
        """Whether ``address`` lies in an allowed network."""
        candidates = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        return any(a in network for a in candidates for network in self.allowed_networks
                   if a.version == network.version)

    def check_host(self, host: str) -> None:
        """Refuse a destination that is blocked by its name or by its literal address
        (resolved names are checked by ``check_addresses``)."""
        if self.host_allowed(host):
            return
        name = normalize_host(host)
        if name in METADATA_HOSTS:
            raise EgressBlocked(host, "cloud metadata host")
        if name == "localhost" or name.endswith(".localhost"):
            raise EgressBlocked(host, "loopback host")
        address = parse_address(host)
        if address is not None:
            self.check_addresses(host, [address])

    def check_addresses(self, host: str, addresses: Iterable[IPAddress]) -> None:
        """Refuse ``host`` unless every address it resolved to may be reached."""
        if self.host_allowed(host):
            return
        for address in addresses:
            problem = address_problem(address)
            if problem is not None and not self.address_allowed(address):
                raise EgressBlocked(host, f"{problem} {address}")


def _parse_network(entry: str) -> Optional[IPNetwork]:
    try:
        return ipaddress.ip_network(entry.strip("[]"), strict=False)
    except ValueError:
        return None


class PolicyResolver(AbstractResolver):
    """A DNS resolver that refuses names resolving to blocked addresses.

    aiohttp connects to the addresses this returns, so the check and the connection can
    never see different answers (DNS rebinding)."""

    def __init__(self, policy: EgressPolicy, inner: Optional[AbstractResolver] = None):
        self.policy = policy
        self.inner = inner or aiohttp.ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.policy.check_host(host)
        results = await self.inner.resolve(host, port, family)
        self.policy.check_addresses(host, (ipaddress.ip_address(r["host"]) for r in results))
        return results

    async def close(self) -> None:
        await self.inner.close()


# ---------------------------------------------------------------- results


@dataclass
class HttpResult:
    """One HTTP response: status, reason phrase, headers (names as sent), body, final url."""

    status: int
    reason: str = ""
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    url: str = ""

    @property
    def ok(self) -> bool:
        """A 2xx status."""
        return 200 <= self.status < 300

    @property
    def content_type(self) -> str:
        """The media type, lower case, without parameters (``application/json``)."""
        return self.header("content-type").split(";")[0].strip().lower()

    @property
    def charset(self) -> str:
        """The charset parameter of the content type, else UTF-8."""
        for part in self.header("content-type").split(";")[1:]:
            name, _, value = part.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
        return "utf-8"

    def header(self, name: str) -> str:
        """A header value by case-insensitive name ("" when absent)."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), "")

    def text(self) -> str:
        """The body decoded with its charset (undecodable bytes replaced)."""
        try:
            return self.body.decode(self.charset, errors="replace")
        except LookupError:  # an unknown charset name
            return self.body.decode("utf-8", errors="replace")


# ---------------------------------------------------------------- the service


class HttpService:
    """Outgoing HTTP for the keywords (see module doc)."""

    def __init__(self, *, policy: Optional[EgressPolicy] = None, timeout: Optional[float] = None,
                 connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                 max_bytes: int = DEFAULT_MAX_BYTES, max_redirects: int = DEFAULT_MAX_REDIRECTS,
                 resolver: Optional[AbstractResolver] = None):
        self.policy = policy or EgressPolicy()
        self.timeout = timeout  # None: each keyword's own default
        self.connect_timeout = connect_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self._inner_resolver = resolver

    @classmethod
    def from_config(cls, config) -> "HttpService":
        """A service set up from a bot's ``BotConfig`` (None: the defaults)."""
        if config is None:
            return cls()
        return cls(policy=EgressPolicy.from_setting(config.get("http-allow-hosts")),
                   timeout=config.get_float("http-timeout-secs"),
                   connect_timeout=config.get_float("http-connect-timeout-secs",
                                                    DEFAULT_CONNECT_TIMEOUT),
                   max_bytes=config.get_int("http-max-bytes", DEFAULT_MAX_BYTES),
                   max_redirects=config.get_int("http-max-redirects", DEFAULT_MAX_REDIRECTS))

    async def request(self, method: str, url: str, *, headers: Optional[Mapping] = None,
                      body: Optional[bytes] = None, params: Optional[Mapping] = None,
                      timeout: float = DEFAULT_TIMEOUT) -> HttpResult:
        """Send one request, following redirects; ``timeout`` is the keyword's default
        (``http-timeout-secs`` replaces it)."""
        target = self._checked_url(url, params)
        seconds = self.timeout if self.timeout is not None else timeout
        client_timeout = aiohttp.ClientTimeout(total=seconds, connect=self.connect_timeout)
        # A session per request: the service outlives event loops (each CLI run and test
        # has its own), and aiohttp sessions belong to the loop that created them.
        connector = aiohttp.TCPConnector(resolver=PolicyResolver(self.policy, self._inner_resolver),
                                         use_dns_cache=False)
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=client_timeout,
                                             auto_decompress=True) as session:
                return await self._follow(session, method.upper(), target, dict(headers or {}), body)
        except BasicError:
            raise
        except asyncio.TimeoutError:
            raise BasicError(f"HTTP {method.upper()} {url}: timed out after {seconds:g} s") from None
        except aiohttp.ClientError as exc:
            raise BasicError(f"HTTP {method.upper()} {url} failed: {_describe(exc)}") from None

    def _checked_url(self, url: str, params: Optional[Mapping] = None) -> URL:
        try:
            target = URL(url)
        except ValueError as exc:
            raise BasicError(f"invalid URL '{url}': {exc}") from None
        if target.scheme not in ("http", "https") or not target.host:
            raise BasicError(f"invalid URL '{url}': only http:// and https:// URLs can be fetched")
        if params:
            target = target.update_query({str(k): str(v) for k, v in params.items()})
        self.policy.check_host(target.host)
        return target

    async def _follow(self, session, method: str, target: URL, headers: dict,
                      body: Optional[bytes]) -> HttpResult:
        """Send the request and follow redirects by hand, checking each new destination."""
        for _ in range(self.max_redirects + 1):
            async with session.request(method, target, headers=headers, data=body,
                                       allow_redirects=False) as response:
                location = response.headers.get("Location")
                if response.status not in _REDIRECT_STATUSES or not location:
                    return await self._result(response)
            next_target = target.join(URL(location))
            method, body = _redirected_method(response.status, method, body)
            headers = _redirected_headers(headers, target, next_target, body)
            target = self._checked_url(str(next_target))
        raise BasicError(f"HTTP {method} {target}: more than {self.max_redirects} redirects")

    async def _result(self, response: aiohttp.ClientResponse) -> HttpResult:
        declared = response.content_length
        if declared is not None and declared > self.max_bytes:
            raise self._too_large(response.url)
        chunks, size = [], 0
        async for chunk in response.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise self._too_large(response.url)
            chunks.append(chunk)
        headers: dict = {}
        for key, value in response.headers.items():  # repeated headers joined, as in HTTP
            name = str(key)  # aiohttp's keys are ``istr``; BASIC objects want plain strings
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return HttpResult(response.status, response.reason or "", headers, b"".join(chunks),
                          str(response.url))

    def _too_large(self, url) -> BasicError:
        return BasicError(f"HTTP response from {url} is larger than {self.max_bytes} bytes "
                          f"(http-max-bytes)")


def _redirected_method(status: int, method: str, body: Optional[bytes]):
    """303 (and 301/302 after POST, as browsers do) turn the request into a bodiless GET."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        return "GET", None
    return method, body


def _redirected_headers(headers: dict, source: URL, target: URL, body) -> dict:
    """Headers for the redirected request: credentials never follow to another host."""
    kept = dict(headers)
    if (source.host, source.port) != (target.host, target.port):
        for name in list(kept):
            if name.lower() in ("authorization", "cookie", "proxy-authorization"):
                del kept[name]
    if body is None:
        for name in list(kept):
            if name.lower() in ("content-type", "content-length"):
                del kept[name]
    return kept


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text[:300]
