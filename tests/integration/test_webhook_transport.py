"""The webhook transport (notify/webhook_http.py): a malformed URL is a problem, not a crash;
a request goes to the address that was checked (a second DNS answer cannot redirect it to a
private one) with the URL's host in Host and, over TLS, in SNI."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest

from esign.notify import webhook_http
from esign.notify.webhook_http import HttpWebhookTransport, _pinned, _public
from tests.integration.conftest import Receiver


@pytest.mark.parametrize(
    "url", ["http://example.com:99999/h", "http://example.com:abc/h", "http://[::1/h", "ftp://x/"]
)
def test_a_malformed_url_is_a_problem(url: str) -> None:
    problem = HttpWebhookTransport().check_url(url)
    assert problem is not None and not problem.transient
    result = HttpWebhookTransport().post(url, b"{}", {})
    assert result.status_code is None and result.error == problem.reason


@pytest.mark.parametrize(
    "address",
    [
        "224.0.0.1",  # multicast, which ipaddress counts as global
        "ff02::1",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1::a00:1",  # local-use NAT64 of 10.0.0.1
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:c0a8:101::",  # 6to4 of 192.168.1.1
        "::ffff:127.0.0.1",
        "2001::1",  # Teredo
        "240.0.0.1",
        "255.255.255.255",
        "100.64.0.1",
    ],
)
def test_addresses_that_lead_inside_are_not_public(address: str) -> None:
    assert not _public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1::1", "64:ff9b::5db8:d822"])
def test_public_addresses_are(address: str) -> None:
    assert _public(ipaddress.ip_address(address))  # (the last: NAT64 of 93.184.216.34)


def test_the_request_names_the_checked_address() -> None:
    url, headers, extensions = _pinned(
        urlsplit("https://user:pw@Hooks.Example.com:8443/in?x=1"), "93.184.216.34"
    )
    assert url == "https://user:pw@93.184.216.34:8443/in?x=1"
    assert headers == {"Host": "Hooks.Example.com:8443"}
    assert extensions == {"sni_hostname": "hooks.example.com"}
    url, headers, extensions = _pinned(urlsplit("http://hooks.example.com/in"), "2001:db8::1")
    assert (url, headers, extensions) == (
        "http://[2001:db8::1]/in",
        {"Host": "hooks.example.com"},
        {},
    )


def test_a_host_that_turned_private_after_the_check_gets_nothing(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    answers = iter(["93.184.216.34", "127.0.0.1"])  # public when checked, then rebound

    def lookup(host: str, port: Any, **kw: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(webhook_http.socket, "getaddrinfo", lookup)
    transport = HttpWebhookTransport()
    url = f"http://hooks.example.com:{receiver.port}/hook"
    assert transport.check_url(url) is None
    result = transport.post(url, b"{}", {})
    assert result.status_code is None and "non-public address (127.0.0.1)" in result.error
    assert receiver.snapshot() == []


def test_the_request_goes_to_the_resolved_address_with_the_host_named(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    # (The checked address is this machine's, as a public one would be: the lookup is pinned.)
    monkeypatch.setattr(HttpWebhookTransport, "_resolve", lambda self, url: "127.0.0.1")
    url = f"http://hooks.example.com:{receiver.port}/hook"
    result = HttpWebhookTransport().post(url, b'{"a": 1}', {"X-Test": "1"})
    assert result.status_code == 200, result
    (hit,) = receiver.snapshot()
    assert hit.headers["host"] == f"hooks.example.com:{receiver.port}"
    assert hit.headers["x-test"] == "1" and hit.body == b'{"a": 1}'
