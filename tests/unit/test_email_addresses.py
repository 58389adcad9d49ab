"""What counts as an e-mail address for usernames, signers and admins (decision 0050)."""

from __future__ import annotations

import pytest

from esign.services.intake import is_email_address


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
        "jörg@mu\u0308ller.de",  # ü as u and a combining diaeresis
        "a@\u0e44\u0e17\u0e22.\u0e44\u0e17\u0e22",  # Thai, with its marks
    ],
)
def test_addresses_mail_is_sent_to(address: str) -> None:
    assert is_email_address(address)


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
        "bob\u200b@acme.example.com",  # a zero-width space: bob@ to the eye
        "bo\u00adb@acme.example.com",  # a soft hyphen
        "bob\x07@acme.example.com",
        "bob@acme\u200b.example.com",
        "a@b@c.com",
    ],
)
def test_what_is_no_address(address: str) -> None:
    assert not is_email_address(address)
