"""Webhook HTTP transport, with a guard against calling loopback and private addresses."""

from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urlsplit

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
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return UrlProblem("the URL must be http(s) with a host name")
        host = parts.hostname
        if self._allow_private or host in self._allowed_hosts:
            return None
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            return UrlProblem(f"the host '{host}' does not resolve", transient=True)
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global:
                return UrlProblem(
                    f"the host '{host}' resolves to a non-public address ({address}); "
                    "set ESIGN_WEBHOOK_ALLOW_HOSTS to allow it"
                )
        return None

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> HttpResult:
        started = time.monotonic()
        try:
            with httpx.Client(timeout=self._timeout, follow_redirects=False) as client:
                response = client.post(url, content=body, headers=headers)
            status, error = response.status_code, ""
        except httpx.HTTPError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"[:500]
        return HttpResult(status, error, int((time.monotonic() - started) * 1000))
