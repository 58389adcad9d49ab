"""Webhook HTTP transport, with a guard against calling loopback and private addresses."""

from __future__ import annotations

import ipaddress
import socket
import time
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpx

from esign.domain.ports import HttpResult, UrlProblem


class HttpWebhookTransport:
    def __init__(
        self,
        allow_private: bool = False,
        allowed_hosts: frozenset[str] = frozenset(),
        timeout: float = 10.0,
    ) -> None:
        self._allow_private = allow_private
        self._allowed_hosts = allowed_hosts
        self._timeout = timeout

    def check_url(self, url: str) -> UrlProblem | None:
        found = self._resolve(url)
        return found if isinstance(found, UrlProblem) else None

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> HttpResult:
        started = time.monotonic()
        found = self._resolve(url)
        if isinstance(found, UrlProblem):
            return HttpResult(None, found.reason, 0, found)
        target, extra, extensions = url, dict[str, str](), dict[str, Any]()
        if found is not None:
            target, extra, extensions = _pinned(urlsplit(url), found)
        try:
            with httpx.Client(timeout=self._timeout, follow_redirects=False) as client:
                response = client.post(
                    target, content=body, headers={**headers, **extra}, extensions=extensions
                )
            status, error = response.status_code, ""
        except httpx.HTTPError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"[:500]
        return HttpResult(status, error, int((time.monotonic() - started) * 1000))

    def _resolve(self, url: str) -> UrlProblem | str | None:
        """The problem with the URL; else the public address to call, which the request then
        uses (a second lookup could answer differently: DNS rebinding); None when the
        operator allows the host whatever its address."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError as exc:  # a port out of range, an unclosed [IPv6 bracket
            return UrlProblem(f"the URL is not valid ({exc})")
        if parts.scheme not in ("http", "https") or not host:
            return UrlProblem("the URL must be http(s) with a host name")
        if self._allow_private or host in self._allowed_hosts:
            return None
        default_port = 443 if parts.scheme == "https" else 80
        try:
            infos = socket.getaddrinfo(host, port or default_port, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            return UrlProblem(f"the host '{host}' does not resolve", transient=True)
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        for address in addresses:
            if not _public(address):
                return UrlProblem(
                    f"the host '{host}' resolves to a non-public address ({address}); "
                    "set ESIGN_WEBHOOK_ALLOW_HOSTS to allow it"
                )
        return str(addresses[0])


# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052 and 8215):
# 64:ff9b::7f00:1 reaches 127.0.0.1 through a translator.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether a webhook may go to `address`: globally routable, one host (not multicast,
    which `is_global` lets through), and not a private IPv4 address wrapped in IPv6."""
    if address.is_multicast or not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address.sixtofour is not None:  # 2002::/16
            return _public(address.sixtofour)
        if any(address in net for net in _NAT64):
            return _public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return True


def _pinned(parts: SplitResult, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The request to `address` for the URL's host: the URL names the address, Host names the
    host, and TLS checks the host's certificate (SNI)."""
    host = parts.hostname or ""
    user, at, host_header = parts.netloc.rpartition("@")
    literal = f"[{address}]" if ":" in address else address
    netloc = user + at + (literal if parts.port is None else f"{literal}:{parts.port}")
    url = parts._replace(netloc=netloc).geturl()
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return url, {"Host": host_header}, extensions
