"""Webhook URLs as the delivery log and `esign clients list` show them: no credentials, no
query (either may carry a working secret)."""

from __future__ import annotations

import pytest

from esign.domain.jobs import shown_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.example.com/in", "https://hooks.example.com/in"),
        ("https://hooks.example.com:8443/a/b", "https://hooks.example.com:8443/a/b"),
        ("http://user:pw@127.0.0.1:9/x?tok=abc", "http://***@127.0.0.1:9/x?***"),
        ("http://user@host/x", "http://***@host/x"),
        ("http://a:b@c@host/x", "http://***@host/x"),
        ("https://host?token=abc", "https://host?***"),
        ("https://host/p#frag?x", "https://host/p"),
        ("https://host/p/?a=1&b=2#f", "https://host/p/?***"),
        ("https://host", "https://host"),
        ("not a url?secret", "not a url?***"),
    ],
)
def test_credentials_and_query_are_hidden(url: str, shown: str) -> None:
    assert shown_url(url) == shown
