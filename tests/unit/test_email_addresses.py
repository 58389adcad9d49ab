"""What counts as an e-mail address for usernames, signers and admins (services/intake.EMAIL)."""

from __future__ import annotations

import pytest

from esign.services.intake import EMAIL


@pytest.mark.parametrize(
    "address",
    [
        "pat+crm@example.com",
        "o'brien@example.co.uk",
        "jörg@müller.de",
        "first.last@sub.example-site.com",
        "a@b.io",
        "x@xn--p1ai.xn--p1ai",
        "A.B-C_d@EXAMPLE.COM",
        "agent@1st.example.com",
    ],
)
def test_addresses_mail_is_sent_to(address: str) -> None:
    assert EMAIL.match(address)


@pytest.mark.parametrize(
    "address",
    [
        "a@b..com",
        ".a@b.com",
        "a.@b.com",
        "a..b@c.com",
        "a@-b.com",
        "a@b-.com",
        "a@b.com.",  # a second spelling of a@b.com
        "a@b.c",
        "x@[127.0.0.1]",
        "a@b",
        "a@@b.com",
        "a b@c.com",
        "a@b_c.com",
        "@b.com",
        "a@.com",
        "a@b.123",
        "a,b@c.com",
        "a@b.com\n",
    ],
)
def test_what_is_no_address(address: str) -> None:
    assert not EMAIL.match(address)
