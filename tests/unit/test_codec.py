"""The lenient wire decoder (contract §1): what .NET and hand-written clients send must decode,
and what cannot be decoded must fail with a message that names the member."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from esign.api import wire
from esign.api.codec import (
    BOOL,
    BYTES,
    DATE,
    INT,
    LONG_STR,
    MAP,
    MAX_STRING,
    PROPS,
    STR,
    WireError,
    decode,
    enum,
    ms_date,
    obj,
)
from esign.domain.enums import AuthMethod, SessionStatus, UserStatus, UseSequence


def wire_error(spec: Any, value: Any, path: str = "x") -> WireError:
    with pytest.raises(WireError) as caught:
        decode(spec, value, path)
    return caught.value


# --- objects: case-insensitive members, aliases, unknown and null members ------------------


def test_members_match_case_insensitively() -> None:
    got = decode(
        wire.SIGNER,
        {"signerID": "s-1", "LASTNAME": "Doe", "emailaddress": "a@b.co", "signerRole": "Buyer 1"},
        "signer",
    )
    assert got == {
        "SignerId": "s-1",
        "LastName": "Doe",
        "EmailAddress": "a@b.co",
        "SignerRole": "Buyer 1",
    }


def test_authenticate_signer_is_an_alias_of_authentication_settings() -> None:
    got = decode(wire.SIGNER, {"AuthenticateSigner": {"password": "pw-1"}}, "signer")
    assert got == {"AuthenticationSettings": {"Password": "pw-1"}}
    lower = decode(wire.SIGNER, {"Authenticationsettings": {"PASSWORD": "pw-2"}}, "signer")
    assert lower == {"AuthenticationSettings": {"Password": "pw-2"}}


def test_nested_aliases_and_body_parameters() -> None:
    body = decode(
        wire.SESSION_BODY,
        {
            "UserName": "Owner@Example.com",
            "SESSION": {
                "sessioninfo": {"TransactionTitle": "Offer", "returnUrl": "https://x.test/"},
                "signers": [{"Role": "Buyer 1", "Email": "b@x.co", "Id": "s-9"}],
            },
        },
        "",
    )
    assert body["userName"] == "Owner@Example.com"  # values keep their case
    info = body["session"]["SessionInfo"]
    assert info == {"Title": "Offer", "ReturnURL": "https://x.test/"}
    assert body["session"]["Signers"] == [
        {"SignerRole": "Buyer 1", "EmailAddress": "b@x.co", "SignerId": "s-9"}
    ]


def test_unknown_members_are_ignored_and_nulls_mean_not_given() -> None:
    got = decode(
        wire.DOCUMENT,
        {"FileName": "a.pdf", "Frobnicate": {"deep": [1, 2]}, "FormId": None, "Sequence": None},
        "doc",
    )
    assert got == {"FileName": "a.pdf"}
    assert decode(wire.DOCUMENT, None, "doc") is None


def test_an_object_member_given_as_a_scalar_names_the_member_and_type() -> None:
    err = wire_error(wire.SESSION_BODY, {"session": 5}, "")
    assert err.path == "session"
    assert "Session" in err.problem
    err = wire_error(wire.SESSION_BODY, {"session": {"Signers": {}}}, "")
    assert err.path == "session.Signers"
    assert "array" in err.problem
    err = wire_error(wire.SESSION_BODY, {"session": {"Signers": [{"Sequence": "first"}]}}, "")
    assert err.path == "session.Signers[0].Sequence"


# --- bytes ---------------------------------------------------------------------------------

PAYLOAD = bytes(range(256)) * 3


def test_bytes_as_standard_and_url_safe_base64() -> None:
    assert decode(BYTES, base64.b64encode(PAYLOAD).decode(), "b") == PAYLOAD
    assert decode(BYTES, base64.urlsafe_b64encode(PAYLOAD).decode(), "b") == PAYLOAD
    unpadded = base64.urlsafe_b64encode(PAYLOAD[:10]).decode().rstrip("=")
    assert decode(BYTES, unpadded, "b") == PAYLOAD[:10]


def test_bytes_as_base64_with_line_breaks() -> None:
    # .NET Convert.ToBase64String(..., InsertLineBreaks) wraps every 76 characters.
    text = base64.encodebytes(PAYLOAD).decode()
    assert "\n" in text
    assert decode(BYTES, text, "b") == PAYLOAD


def test_bytes_as_data_url() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    assert decode(BYTES, url, "b") == png


def test_bytes_as_integer_array() -> None:
    assert decode(BYTES, list(PAYLOAD), "b") == PAYLOAD
    assert decode(BYTES, [], "b") == b""


@pytest.mark.parametrize(
    "value",
    [[0, 256], [-1], [1, "2"], [1.5], [[1]], [None], [37, 80, True, False], [7, False]],
    ids=["256", "negative", "string-item", "float-item", "nested", "null-item", "bools", "false"],
)
def test_integer_arrays_outside_0_255_are_refused(value: list[Any]) -> None:
    err = wire_error(BYTES, value, "session.Documents[0].FileBytes")
    assert err.path == "session.Documents[0].FileBytes"
    assert "0..255" in err.problem


@pytest.mark.parametrize("value", [True, 5, 1.5, {"a": 1}], ids=["bool", "int", "float", "obj"])
def test_bytes_of_the_wrong_type_are_refused(value: Any) -> None:
    err = wire_error(BYTES, value, "FileBytes")
    assert err.path == "FileBytes"
    assert "base64" in err.problem


@pytest.mark.parametrize("text", ["A", "not base64 at all!", "%%%%", "QUJD*RA=="])
def test_text_that_is_not_base64_is_refused(text: str) -> None:
    # Silently dropping the characters that are not base64 would turn garbage into other bytes.
    err = wire_error(BYTES, text, "FileBytes")
    assert "base64" in err.problem


# --- dates ---------------------------------------------------------------------------------


def test_iso_dates_with_and_without_zone() -> None:
    assert decode(DATE, "2030-01-02T03:04:05Z", "d") == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert decode(DATE, "2030-01-02T03:04:05+02:00", "d") == datetime(
        2030, 1, 2, 1, 4, 5, tzinfo=UTC
    )
    # No zone: taken as UTC (everything is stored in UTC).
    naive = decode(DATE, "2030-01-02T03:04:05", "d")
    assert naive == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert naive.utcoffset() == timedelta(0)
    assert decode(DATE, "2030-01-02", "d") == datetime(2030, 1, 2, tzinfo=UTC)
    assert decode(DATE, "2030-01-02T03:04:05.123z", "d") == datetime(
        2030, 1, 2, 3, 4, 5, 123000, tzinfo=UTC
    )


def test_results_are_always_utc() -> None:
    got = decode(DATE, "2030-06-01T12:00:00-07:00", "d")
    assert got.tzinfo is UTC
    assert got.hour == 19


def test_microsoft_json_dates() -> None:
    moment = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    # What the JSON text "\/Date(1700000000000)\/" becomes once parsed…
    assert decode(DATE, "/Date(1700000000000)/", "d") == moment
    # …and the escaped form, should a client double-escape.
    assert decode(DATE, "\\/Date(1700000000000)\\/", "d") == moment
    assert decode(DATE, " /Date(1700000000123)/ ", "d") == moment + timedelta(milliseconds=123)


@pytest.mark.parametrize("offset", ["+0200", "-0500", "+0000", "+1345"])
def test_microsoft_dates_with_an_offset_are_the_same_instant(offset: str) -> None:
    # In the .NET format the milliseconds are UTC; the offset only says where it was written.
    assert decode(DATE, f"/Date(1700000000000{offset})/", "d") == datetime(
        2023, 11, 14, 22, 13, 20, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "value",
    [
        "/Date(-62135596800000)/",  # DateTime.MinValue as JavaScriptSerializer writes it
        "\\/Date(-62135596800000)\\/",
        "0001-01-01T00:00:00",  # DateTime.MinValue as Newtonsoft writes it
        "0001-01-01T00:00:00Z",
        "",
        "   ",
    ],
)
def test_dotnet_min_value_and_empty_mean_not_given(value: str) -> None:
    assert decode(DATE, value, "d") is None


def test_dates_before_1900_but_not_min_value_are_also_not_given() -> None:
    # The cut-off is deliberate: no signing session has a date before 1900.
    assert decode(DATE, "1899-12-31T23:59:59Z", "d") is None
    assert decode(DATE, "1900-01-01T00:00:00Z", "d") == datetime(1900, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "tomorrow",
        "2030-13-01",
        "/Date(abc)/",
        "/Date(1700000000000+2)/",
        "/Date(99999999999999999999)/",
        "2030-01-02T03:04:05+25:00",
    ],
)
def test_invalid_date_text_names_the_member(value: str) -> None:
    err = wire_error(DATE, value, "session.SessionInfo.ExpiresOn")
    assert err.path == "session.SessionInfo.ExpiresOn"
    assert "date" in err.problem


@pytest.mark.parametrize("value", [1700000000000, True, ["2030-01-01"], {"d": 1}])
def test_dates_of_the_wrong_type_are_refused(value: Any) -> None:
    err = wire_error(DATE, value, "ExpiresOn")
    assert "ISO-8601" in err.problem


def test_ms_date_round_trip() -> None:
    moment = datetime(2023, 11, 14, 22, 13, 20, 456000, tzinfo=UTC)
    text = ms_date(moment)
    assert text == "/Date(1700000000456)/"
    assert decode(DATE, text, "d") == moment
    assert ms_date(None) is None
    before_epoch = datetime(1960, 1, 1, tzinfo=UTC)
    assert decode(DATE, ms_date(before_epoch), "d") == before_epoch


# --- enums ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, UseSequence.NON_SEQUENTIAL),
        (1, UseSequence.SEQUENTIAL),
        ("2", UseSequence.SUSPENDED),
        (" 1 ", UseSequence.SEQUENTIAL),
        ("Sequential", UseSequence.SEQUENTIAL),
        ("sequential", UseSequence.SEQUENTIAL),
        ("SUSPENDED", UseSequence.SUSPENDED),
        ("NonSequential", UseSequence.NON_SEQUENTIAL),
        ("non_sequential", UseSequence.NON_SEQUENTIAL),
    ],
)
def test_enums_by_number_or_name(value: Any, expected: UseSequence) -> None:
    assert decode(enum(UseSequence), value, "u") is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("None", AuthMethod.NONE),
        ("Password", AuthMethod.PASSWORD),
        ("KBA", AuthMethod.KBA),
        ("kbaPlusPassword", AuthMethod.KBA_PLUS_PASSWORD),
        ("sms", AuthMethod.SMS),
        (3, AuthMethod.KBA_PLUS_PASSWORD),
    ],
)
def test_auth_methods_by_vendor_name(value: Any, expected: AuthMethod) -> None:
    assert decode(enum(AuthMethod), value, "a") is expected


def test_user_status_names() -> None:
    assert decode(enum(UserStatus), "Inactive", "s") is UserStatus.INACTIVE
    assert decode(enum(UserStatus), "1", "s") is UserStatus.ACTIVE


@pytest.mark.parametrize("value", [7, -1, "9", "Sequentially", "", "²"])
def test_unknown_enum_values_name_the_member_and_the_allowed_values(value: Any) -> None:
    err = wire_error(wire.SESSION_BODY, {"session": {"SessionInfo": {"UseSequence": value}}}, "")
    assert err.path == "session.SessionInfo.UseSequence"
    assert "0=NON_SEQUENTIAL" in err.problem
    assert "2=SUSPENDED" in err.problem


def test_unknown_enum_in_a_list_names_the_index() -> None:
    err = wire_error(
        wire.SESSION_BODY, {"session": {"Signers": [{}, {"AuthMethods": [0, "Retina"]}]}}, ""
    )
    assert err.path == "session.Signers[1].AuthMethods[1]"
    assert "Retina" in err.problem


@pytest.mark.parametrize("value", [True, 1.0, [1], {"v": 1}])
def test_enums_of_the_wrong_type_are_refused(value: Any) -> None:
    err = wire_error(enum(SessionStatus), value, "StatusCode")
    assert err.path == "StatusCode"


# --- Properties and MergeFieldMapping ------------------------------------------------------


def test_properties_as_key_value_list() -> None:
    got = decode(
        PROPS,
        [{"Key": "DisableEditName", "Value": "1"}, {"key": "MandateDocUpload", "value": True}],
        "p",
    )
    assert got == [("DisableEditName", "1"), ("MandateDocUpload", "true")]


def test_properties_as_map_keep_order_and_case() -> None:
    got = decode(PROPS, {"DisableEditName": "1", "mandateDocUpload": 1, "Empty": None}, "p")
    assert got == [("DisableEditName", "1"), ("mandateDocUpload", "1"), ("Empty", "")]


def test_property_list_item_without_value_is_empty() -> None:
    assert decode(PROPS, [{"Key": "A"}], "p") == [("A", "")]


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (5, "Properties"),
        ("DisableEditName=1", "Properties"),
        ([["DisableEditName", "1"]], "Properties[0]"),
        ([{"Value": "1"}], "Properties[0]"),
        ([{"Key": {"a": 1}, "Value": "1"}], "Properties[0].Key"),
        ([{"Key": "A", "Value": [1]}], "Properties[0].Value"),
        ({"A": {"b": 1}}, "Properties.A"),
    ],
)
def test_malformed_properties_name_the_place(value: Any, path: str) -> None:
    err = wire_error(PROPS, value, "Properties")
    assert err.path == path


def test_numbers_in_maps_keep_their_usual_text() -> None:
    """Only text members refuse decimals (their digits matter: TransactionId); a value in a
    map is a price or a rate, kept as it reads."""
    got = decode(
        wire.SIGNER,
        {
            "MergeFieldMapping": {"Price": 450000.5, "Rate": 1e-3},
            "Contact": {"Price": 450000.5},
            "Properties": [{"Key": "k", "Value": 2.5}],
        },
        "s",
    )
    assert got["MergeFieldMapping"] == {"Price": "450000.5", "Rate": "0.001"}
    assert got["Contact"] == {"Price": "450000.5"}
    assert got["Properties"] == [("k", "2.5")]


def test_merge_field_mapping_is_a_map_whose_keys_keep_their_case() -> None:
    got = decode(
        wire.SIGNER,
        {"mergefieldmapping": {"BuyerName": "Ann", "buyer_ADDRESS": "1 Elm", "Price": 450000}},
        "s",
    )
    assert got["MergeFieldMapping"] == {
        "BuyerName": "Ann",
        "buyer_ADDRESS": "1 Elm",
        "Price": "450000",
    }
    # A .NET Dictionary serialised by DataContractJsonSerializer is a Key/Value list.
    assert decode(MAP, [{"Key": "BuyerName", "Value": "Ann"}], "m") == {"BuyerName": "Ann"}
    assert wire_error(MAP, 5, "MergeFieldMapping").path == "MergeFieldMapping"


# --- strings, ints, bools ------------------------------------------------------------------


def test_strings_up_to_the_limit() -> None:
    assert decode(STR, "x" * MAX_STRING, "s") == "x" * MAX_STRING
    err = wire_error(STR, "x" * (MAX_STRING + 1), "session.SessionInfo.Title")
    assert err.path == "session.SessionInfo.Title"
    assert f"longer than {MAX_STRING}" in err.problem
    assert decode(LONG_STR, "x" * 500_000, "s") == "x" * 500_000
    assert "longer" in wire_error(LONG_STR, "x" * 1_000_001).problem


def test_long_strings_deep_in_a_request_name_their_path() -> None:
    err = wire_error(
        wire.SESSION_BODY, {"session": {"Documents": [{"FileName": "a" * 30_000}]}}, ""
    )
    assert err.path == "session.Documents[0].FileName"


def test_nul_characters_are_refused_in_text_and_keys() -> None:
    # No text field has a use for NUL, and PostgreSQL cannot store it.
    err = wire_error(wire.SESSION_BODY, {"session": {"SessionInfo": {"Title": "a\x00b"}}}, "")
    assert (err.path, err.problem) == ("session.SessionInfo.Title", "contains a NUL character")
    assert "NUL" in wire_error(PROPS, {"Dis\x00able": "1"}, "Properties").problem
    assert "NUL" in wire_error(PROPS, [{"Key": "A", "Value": "\x00"}], "Properties").problem
    assert "NUL" in wire_error(MAP, {"Key": "a\x00"}, "MergeFieldMapping").problem


def test_whole_numbers_are_accepted_where_text_is_expected() -> None:
    assert decode(STR, 12345, "s") == "12345"
    assert decode(STR, 2**63 - 1, "s") == str(2**63 - 1)
    assert decode(STR, "", "s") == ""


@pytest.mark.parametrize("raw", [b"12345678901234567890123", b"0.30000000000000004", b"1e3"])
def test_numbers_that_would_not_keep_their_digits_are_refused_as_text(raw: bytes) -> None:
    value = orjson.loads(raw)  # as the request body is read
    problem = wire_error(STR, value, "TransactionId").problem
    assert problem.startswith("expected a string (send this number as text"), problem


@pytest.mark.parametrize("value", [True, ["a"], {"a": "b"}])
def test_strings_of_the_wrong_type_are_refused(value: Any) -> None:
    assert wire_error(STR, value, "Title").problem == "expected a string"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, 3), ("3", 3), (" 42 ", 42), ("-7", -7), (5.0, 5), (2**31 - 1, 2**31 - 1)],
)
def test_ints_including_ints_given_as_strings(value: Any, expected: int) -> None:
    assert decode(INT, value, "i") == expected


@pytest.mark.parametrize(
    "value", [True, "3.5", 3.5, "three", "", "1e3", [1], 2**31, "-2147483648000"]
)
def test_bad_ints_are_refused(value: Any) -> None:
    err = wire_error(INT, value, "Sequence")
    assert err.path == "Sequence"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("True", True),
        (" FALSE ", False),
        ("1", True),
        ("0", False),
        (1, True),
        (0, False),
        ("", False),
    ],
)
def test_bools_including_bools_given_as_strings(value: Any, expected: bool) -> None:
    assert decode(BOOL, value, "b") is expected


@pytest.mark.parametrize("value", ["yes", "maybe", 2, -1, 1.5, [True], {"b": True}])
def test_bad_bools_are_refused(value: Any) -> None:
    assert wire_error(BOOL, value, "HasAnchorTags").problem == "expected true or false"


# --- a whole .NET-style request, through the spec and into use-case inputs ----------------


def test_dotnet_session_body_to_session_input() -> None:
    pdf = b"%PDF-1.4 tiny"
    raw = {
        "userName": "owner@acme.test",
        "session": {
            "SessionInfo": {
                "Title": "Offer",
                "UseSequence": "Sequential",
                "ExpiresOn": "/Date(1900000000000)/",
                "ReminderFrequencyDays": "3",
                "SendSignerInvites": "false",
                "Password": "",
            },
            "Documents": [{"FileName": "a.pdf", "FileBytes": list(pdf), "Sequence": "1"}],
            "Signers": [
                {
                    "FirstName": "Ann",
                    "LastName": "Lee",
                    "EmailAddress": "ann@x.test",
                    "SignerRole": "Buyer 1",
                    "AuthMethod": "Password",
                    "AuthenticateSigner": {"Password": "s3cret"},
                    "Properties": {"DisableEditName": "1"},
                    "MergeFieldMapping": {"BuyerName": "Ann Lee"},
                }
            ],
        },
    }
    body = decode(wire.SESSION_BODY, raw, "")
    cmd = wire.session_input(body["session"])
    assert cmd.info.title == "Offer"
    assert cmd.info.use_sequence is UseSequence.SEQUENTIAL
    assert cmd.info.expires_on == datetime.fromtimestamp(1_900_000_000, UTC)
    assert cmd.info.reminder_frequency_days == 3
    assert cmd.info.send_signer_invites is False
    assert cmd.info.password is None  # an empty password is no password
    assert cmd.documents[0].file_bytes == pdf
    assert cmd.documents[0].sequence == 1
    s = cmd.signers[0]
    assert s.auth_method is AuthMethod.PASSWORD
    assert s.password == "s3cret"
    assert s.properties == [("DisableEditName", "1")]
    assert s.merge_field_mapping == {"BuyerName": "Ann Lee"}


def test_full_name_is_split_when_no_first_or_last_name() -> None:
    s = wire.signer_input(decode(wire.SIGNER, {"FullName": "Mary Ann Smith"}, "s"))
    assert (s.first_name, s.last_name) == ("Mary Ann", "Smith")


def test_user_body_aliases() -> None:
    raw = {
        "user": {"userName": "A@B.co", "EncryptedPassword": "xyz", "SubscriptionTypes": "Annual"}
    }
    got = wire.user_input(decode(wire.USER_BODY, raw, "")["user"])
    assert got.username == "A@B.co"
    assert got.encrypted_password == "xyz"
    assert got.subscription_type == "Annual"


def test_obj_helper_aliases_are_case_insensitive_too() -> None:
    spec = obj("Thing", {"Name": STR}, aliases={"Label": "Name"})
    assert decode(spec, {"LABEL": "a"}, "t") == {"Name": "a"}
    assert wire_error(spec, [], "t").problem == "expected an object (Thing)"
