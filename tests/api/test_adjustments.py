"""Anchor adjustment categories (issue 3, item 4): PUT/GET /rest/v1/anchoradjustments, the
`esign clients set-adjustment` / `adjustments` / `configure` commands, and documents naming
a category in AnchorTagsAdjustmentCategory."""

from __future__ import annotations

import pytest

from esign.app import Runtime
from esign.domain.model import AnchorOffset
from esign.services import clients
from tests.api.cli import cli_json, run_cli
from tests.api.session_helpers import assert_error, assert_not_found, the_session, update
from tests.conftest import Api, pdf_document, signer

A = "/rest/v1/anchoradjustments"
OFFSETS = {"sig": {"X": 0, "Y": -5, "Width": 10, "Height": 0}, "dt": {"X": 2.5}}


def put(api: Api, category: str, adjustments: object) -> dict[str, object]:
    return api.put(f"{A}/{category}", {"Adjustments": adjustments})


def test_put_then_get_and_list(api: Api) -> None:
    answer = put(api, "Forms 2024", OFFSETS)
    assert answer["Message"] == "Success", answer
    assert answer["Category"] == "Forms 2024"
    expected = {
        "sig": {"X": 0.0, "Y": -5.0, "Width": 10.0, "Height": 0.0},
        "dt": {"X": 2.5, "Y": 0.0, "Width": 0.0, "Height": 0.0},
    }
    assert answer["Adjustments"] == expected
    got = api.get(f"{A}/Forms%202024")
    assert (got["Message"], got["Category"], got["Adjustments"]) == (
        "Success",
        "Forms 2024",
        expected,
    )
    listed = api.get(A)
    assert (listed["Categories"], listed["TotalCount"]) == (["Forms 2024"], 1)


def test_keys_tag_types_and_names_ignore_case(api: Api) -> None:
    body = {"adjustments": {"SIG": {"x": 1, "WIDTH": "3"}, "Ddl": {"height": -2}}}
    answer = api.put(f"{A}/Legal", body)
    assert answer["Adjustments"] == {
        "sig": {"X": 1.0, "Y": 0.0, "Width": 3.0, "Height": 0.0},
        "ddl": {"X": 0.0, "Y": 0.0, "Width": 0.0, "Height": -2.0},
    }
    assert api.get(f"{A}/LEGAL")["Category"] == "Legal"
    # A PUT under another spelling replaces the category and takes the new spelling.
    again = put(api, "LEGAL", {"ini": {"Y": 4}})
    assert again["Adjustments"] == {"ini": {"X": 0.0, "Y": 4.0, "Width": 0.0, "Height": 0.0}}
    assert api.get(A)["Categories"] == ["LEGAL"]


def test_delete_removes_the_category_under_any_spelling(api: Api) -> None:
    put(api, "Forms", OFFSETS)
    put(api, "Legal", OFFSETS)
    assert api.delete(f"{A}/FORMS")["Message"] == "Success"
    assert_not_found(api.get(f"{A}/Forms"))
    assert api.get(A)["Categories"] == ["Legal"]
    assert_not_found(api.delete(f"{A}/Forms"))
    assert api.get(A)["Categories"] == ["Legal"]
    # A document naming it now is refused at once (no cached settings still hold it).
    answer = api.create_session(documents=[pdf_document(AnchorTagsAdjustmentCategory="Forms")])
    assert "'Forms' does not exist" in answer["Details"][0]


def test_unknown_tag_type_is_an_error_naming_it(api: Api) -> None:
    answer = put(api, "Bad", {"sig": {"X": 1}, "sgn": {"X": 1}})
    assert_error(answer, "Adjustments.sgn", "not a tag type", "sig, ini", code="invalid_request")
    assert_not_found(api.get(f"{A}/Bad"))


@pytest.mark.parametrize(
    ("adjustments", "fragments"),
    [
        ({"sig": {"X": "left"}}, ("Adjustments.sig.X", "number")),
        ({"sig": {"Y": 5000}}, ("sig.Y", "-1000 and 1000")),
        ({"sig": 7}, ("Adjustments.sig", "object")),
        ([], ("Adjustments", "object")),
    ],
)
def test_bad_offsets_are_refused(api: Api, adjustments: object, fragments: tuple[str, ...]) -> None:
    assert_error(put(api, "Odd", adjustments), *fragments)
    assert api.get(A)["Categories"] == []


def test_missing_body_and_blank_name(api: Api) -> None:
    assert_error(api.put(f"{A}/Empty", {}), "Adjustments", "required")
    assert_error(put(api, "%20", OFFSETS), "category", "required")
    assert_error(put(api, "x" * 101, OFFSETS), "category", "longer than 100")


def test_unknown_category_is_an_error_naming_it(api: Api) -> None:
    answer = api.get(f"{A}/Nope")
    assert_error(answer, "Nope", "not found", code="adjustment_category_not_found")


def test_categories_are_per_client(api: Api, other_api: Api) -> None:
    put(api, "Mine", OFFSETS)
    assert_not_found(other_api.get(f"{A}/Mine"))
    assert other_api.get(A)["Categories"] == []
    put(other_api, "Mine", {"txt": {"X": 9}})
    assert api.get(f"{A}/Mine")["Adjustments"]["sig"]["Y"] == -5.0


def test_a_hundred_categories_at_most(runtime: Runtime, api: Api) -> None:
    settings_names = {f"C{n}": {} for n in range(100)}
    with runtime.deps.uow() as uow:
        client = uow.clients.get(api.client_id)
        assert client is not None
        client.settings.adjustment_categories = settings_names
        uow.clients.update(client)
        uow.commit()
    assert put(api, "C5", OFFSETS)["Message"] == "Success"  # replacing one is fine
    assert_error(put(api, "One more", OFFSETS), "category", "100")


# --- documents naming a category -------------------------------------------------------------


def test_unknown_category_refuses_only_that_document(api: Api) -> None:
    answer = api.post(
        "/rest/v1/sessions",
        {
            "userName": api.username,
            "session": {
                "SessionInfo": {"Title": "Offer"},
                "Documents": [
                    pdf_document("tagged.pdf", AnchorTagsAdjustmentCategory="Nope"),
                    pdf_document("plain.pdf"),
                ],
                "Signers": [signer("Seller 1")],
            },
        },
    )
    session = the_session(answer)
    assert answer["Details"] == [
        "Error: tagged.pdf did not upload. Anchor adjustment category 'Nope' does not exist."
    ]
    assert [d["FileName"] for d in session["Documents"]] == ["plain.pdf"]
    assert [g["SignerRole"] for g in session["Signers"]] == ["Seller 1"]


def test_known_category_is_accepted_on_update_in_any_case(api: Api) -> None:
    put(api, "Forms", OFFSETS)
    sid = api.create_session()["SigningSessionId"]
    answer = update(
        api,
        sid,
        Documents=[
            pdf_document("a.pdf", AnchorTagsAdjustmentCategory="forms", HasAnchorTags=True),
            pdf_document("b.pdf", AnchorTagsAdjustmentCategory="Other"),
        ],
    )
    session = the_session(answer)
    assert len(answer["Details"]) == 1 and "b.pdf did not upload" in answer["Details"][0]
    assert "'Other'" in answer["Details"][0]
    added = session["Documents"][1]
    assert (added["FileName"], added["AnchorTagsAdjustmentCategory"]) == ("a.pdf", "forms")
    assert added["ProcessingStatus"] == "Pending"  # anchor tags are read in the background


# --- the esign command -----------------------------------------------------------------------


def test_cli_sets_and_shows_adjustments(
    runtime: Runtime,
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = ("clients", "set-adjustment", "--client-id", api.client_id, "--category", "Forms")
    shown = cli_json(
        monkeypatch, capsys, runtime, *base, "--type", "SIG", "--y", "-5", "--width", "10"
    )
    assert shown["Categories"]["Forms"]["sig"] == {"X": 0, "Y": -5, "Width": 10, "Height": 0}
    cli_json(monkeypatch, capsys, runtime, *base, "--type", "dt", "--x", "1.5")
    listed = cli_json(
        monkeypatch, capsys, runtime, "clients", "adjustments", "--client-id", api.client_id
    )
    assert set(listed["Categories"]["Forms"]) == {"sig", "dt"}
    assert api.get(f"{A}/forms")["Adjustments"]["dt"]["X"] == 1.5
    code, out, _ = run_cli(
        monkeypatch, capsys, runtime, "clients", "adjustments", "--client-id", api.client_id
    )
    assert code == 0 and "Forms  sig: X 0  Y -5  Width 10  Height 0" in out
    drop = ("clients", "delete-adjustment", "--client-id", api.client_id, "--category", "FORMS")
    assert cli_json(monkeypatch, capsys, runtime, *drop)["Categories"] == {}
    code, _, err = run_cli(monkeypatch, capsys, runtime, *drop)
    assert code == 2 and "'FORMS' was not found" in err


def test_cli_refuses_unknown_tag_type_and_client(
    runtime: Runtime,
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_cli(
        monkeypatch, capsys, runtime, "clients", "set-adjustment", "--client-id", api.client_id,
        "--category", "F", "--type", "sgn",
    )  # fmt: skip
    assert code == 2 and "'sgn' is not one of sig" in err
    code, _, err = run_cli(
        monkeypatch, capsys, runtime, "clients", "adjustments", "--client-id", "nobody"
    )
    assert code == 2 and "no client 'nobody'" in err


def test_cli_configures_delimiters_and_space_char(
    runtime: Runtime,
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shown = cli_json(
        monkeypatch, capsys, runtime, "clients", "configure", "--client-id", api.client_id,
        "--anchor-delimiters", "[]", "--anchor-space-char", "~",
    )  # fmt: skip
    assert (shown["AnchorDelimiters"], shown["AnchorSpaceChar"]) == ("[]", "~")
    settings = clients.require_client(runtime.deps, api.client_id).settings
    assert (settings.anchor_open, settings.anchor_close, settings.anchor_space_char) == (
        "[",
        "]",
        "~",
    )
    for option, value, reason in [
        ("--anchor-delimiters", "<", "two different characters"),
        ("--anchor-delimiters", "aa", "two different characters"),
        ("--anchor-delimiters", "a>", "letters, digits"),
        ("--anchor-space-char", "_", "not a letter, digit, '_'"),
        ("--anchor-space-char", "]", "anchor delimiters"),
    ]:
        code, _, err = run_cli(
            monkeypatch, capsys, runtime, "clients", "configure", "--client-id", api.client_id,
            option, value,
        )  # fmt: skip
        assert code == 2 and reason in err, (option, value, err)
    after = clients.require_client(runtime.deps, api.client_id).settings
    assert (after.anchor_open, after.anchor_close, after.anchor_space_char) == ("[", "]", "~")


def test_offsets_survive_storage_as_numbers(runtime: Runtime, api: Api) -> None:
    put(api, "Kept", {"chk": {"X": 1.25, "Height": -3}})
    found = clients.require_client(runtime.deps, api.client_id).settings.adjustment_category("kept")
    assert found == ("Kept", {"chk": AnchorOffset(1.25, 0.0, 0.0, -3.0)})
