"""Templates (issue 3, item 5): POST/GET/DELETE /rest/v1/templates, `esign templates`, and
sessions that copy a template through Document.FormId."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from esign.app import Runtime
from tests.api.cli import cli_json, run_cli
from tests.api.session_helpers import (
    assert_error,
    assert_not_found,
    b64,
    blank_pdf,
    blob_path,
    completed,
    get_session,
    the_session,
    update,
)
from tests.conftest import Api, FakeClock, pdf_document, signer, tiny_pdf
from tests.integration.test_processing import scripted_pdf, texts
from tests.pdf.office_samples import sample_docx

T = "/rest/v1/templates"
S = "/rest/v1/sessions"

FIELDS = [
    {"Type": "sig", "Option": "req", "Role": "Seller 1", "PageNumber": 1, "X": 72, "Y": 600,
     "Width": 175, "Height": 36},
    {"Type": "ddl", "Role": "Buyer 1", "PageNumber": 2, "X": 306, "Y": 396, "Width": 100,
     "Height": 18, "FontSize": 40, "Items": ["Cash", " Loan ", ""]},
]  # fmt: skip
PDFS = {n: blank_pdf(n) for n in (1, 2)}  # made once: each call writes a new file identifier
MERGE_FIELDS = [
    {"Key": "Company", "DefaultValue": "Acme", "PageNumber": 1, "X": 72, "Y": 72,
     "Width": 200, "Height": 20, "FontSize": 11},
]  # fmt: skip


def template_body(
    form_id: str | None = "LISTING-1", pages: int = 2, **extra: Any
) -> dict[str, Any]:
    template: dict[str, Any] = {
        "Name": "Listing agreement",
        "Document": {
            "FileName": "listing.pdf",
            "FileBytes": base64.b64encode(PDFS[pages]).decode(),
        },
        "Fields": FIELDS,
        "MergeFields": MERGE_FIELDS,
        **extra,
    }
    if form_id is not None:
        template["FormId"] = form_id
    return {"template": template}


def create(api: Api, **kw: Any) -> dict[str, Any]:
    answer = api.post(T, template_body(**kw))
    assert answer["Message"] == "Success", answer
    return answer


def from_template(form_id: str, **extra: Any) -> dict[str, Any]:
    return {"FormId": form_id, **extra}


# --- the template API ------------------------------------------------------------------------


def test_create_answers_the_whole_template_without_bytes(api: Api) -> None:
    answer = create(api)
    assert answer["ReturnValue"] == "LISTING-1"
    t = answer["Templates"][0]
    assert (t["FormId"], t["Name"], t["PageCount"], t["FileName"]) == (
        "LISTING-1",
        "Listing agreement",
        2,
        "listing.pdf",
    )
    assert t["Document"]["Pages"] == [
        {"PageNumber": 1, "Width": 612.0, "Height": 792.0},
        {"PageNumber": 2, "Width": 612.0, "Height": 792.0},
    ]
    assert "FileBytes" not in json.dumps(answer)
    sig, ddl = t["Fields"]
    assert (sig["Type"], sig["Option"], sig["Role"], sig["PageNumber"]) == (
        "sig",
        "req",
        "Seller 1",
        1,
    )
    assert (sig["X"], sig["Y"], sig["Width"], sig["Height"]) == (72.0, 600.0, 175.0, 36.0)
    assert (ddl["Option"], ddl["FontSize"], ddl["Items"]) == ("req", 28.0, ["Cash", "Loan"])
    assert t["MergeFields"] == [
        {"Key": "Company", "DefaultValue": "Acme", "PageNumber": 1, "X": 72.0, "Y": 72.0,
         "Width": 200.0, "Height": 20.0, "FontSize": 11.0},
    ]  # fmt: skip
    assert api.get(f"{T}/LISTING-1")["Templates"] == [t]


def test_server_makes_up_a_form_id_and_lists_templates(
    api: Api, other_api: Api, clock: FakeClock
) -> None:
    made = create(api, form_id=None)["ReturnValue"]
    assert len(made) == 36  # a UUID
    clock.advance(seconds=1)
    create(api, form_id="B")
    listed = api.get(T)
    assert listed["TotalCount"] == 2
    assert [t["FormId"] for t in listed["Templates"]] == [made, "B"]
    assert set(listed["Templates"][0]) == {
        "FormId", "Name", "CreatedOn", "UpdatedOn", "PageCount", "FileName"
    }  # fmt: skip
    assert listed["Templates"][0]["CreatedOn"].startswith("/Date(")
    assert other_api.get(T)["Templates"] == []


def test_keys_ignore_case(api: Api) -> None:
    body = template_body()["template"]
    lowered = {
        "TEMPLATE": {
            "formid": "low",
            "NAME": body["Name"],
            "document": {"filename": "x.pdf", "FILEBYTES": body["Document"]["FileBytes"]},
            "fields": [{"type": "SIG", "signerrole": "Seller 1", "pagenumber": 1, "x": "10.5",
                        "y": 10, "width": 100, "height": 30}],
        }
    }  # fmt: skip
    t = api.post(T, lowered)["Templates"][0]
    assert (t["FormId"], t["Fields"][0]["Role"], t["Fields"][0]["X"]) == ("low", "Seller 1", 10.5)


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        ({"Name": " "}, ("template.Name", "required")),
        ({"FormId": "a/b"}, ("template.FormId", "letters, digits")),
        ({"Document": {"FileName": "x.exe", "FileBytes": "TVo="}},
         ("template.Document.FileName", "must end in one of", ".docx")),
        ({"Document": {"FileName": "contract", "FileBytes": b64(PDFS[1])}},
         ("template.Document.FileName", "(the file's type)")),
        ({"Document": {"FileName": "x.pdf"}}, ("FileBytes", "required")),
        ({"Document": {"FileName": "x.pdf", "FileBytes": "iVBORw0KGgo="}},
         ("FileBytes", "not a .pdf file")),
        ({"Fields": [{**FIELDS[0], "PageNumber": 3}]}, ("Fields[0].PageNumber", "between 1 and 2")),
        ({"Fields": [{**FIELDS[0], "X": 500}]}, ("Fields[0].X", "on the page")),
        ({"Fields": [{**FIELDS[0], "Y": -1}]}, ("Fields[0].Y", "on the page")),
        ({"Fields": [{**FIELDS[0], "Width": 0}]}, ("Fields[0].Width", "more than 0")),
        ({"Fields": [{**FIELDS[0], "Role": ""}]}, ("Fields[0].Role", "required")),
        ({"Fields": [{**FIELDS[0], "Type": "sign"}]}, ("Fields[0].Type", "unknown value")),
        ({"Fields": [{"Role": "Seller 1"}]}, ("Fields[0].Type", "required")),
        ({"Fields": [{"Type": "sig", "Role": "Seller 1", "X": 1}]}, ("PageNumber", "required")),
        ({"MergeFields": [MERGE_FIELDS[0], {**MERGE_FIELDS[0], "Key": "COMPANY"}]},
         ("MergeFields[1].Key", "given twice")),
        ({"MergeFields": [{**MERGE_FIELDS[0], "Key": ""}]}, ("MergeFields[0].Key", "required")),
    ],
)  # fmt: skip
def test_invalid_templates_are_refused_naming_the_member(
    api: Api, runtime: Runtime, change: dict[str, Any], fragments: tuple[str, ...]
) -> None:
    body = template_body()
    body["template"].update(change)
    assert_error(api.post(T, body), *fragments)
    assert api.get(T)["Templates"] == []
    assert _stored_files(runtime) == []  # nothing kept for a refused template


def test_a_refused_word_template_keeps_no_file(api: Api, runtime: Runtime) -> None:
    body = _template_document("Listing.docx", sample_docx())
    body["template"]["Fields"] = [{**FIELDS[0], "PageNumber": 9}]
    assert_error(api.post(T, body), "Fields[0].PageNumber", "between 1 and 1")
    assert _stored_files(runtime) == []


def _stored_files(runtime: Runtime) -> list[Path]:
    return [p for p in (runtime.settings.data_dir / "blobs").rglob("*") if p.is_file()]


def test_missing_template_member(api: Api) -> None:
    assert_error(api.post(T, {}), "template", "required")


def test_delete(api: Api, runtime: Runtime) -> None:
    create(api)
    key = _template_blob(runtime, api, "LISTING-1")
    assert api.delete(f"{T}/LISTING-1")["ReturnValue"] == "True"
    assert_error(api.get(f"{T}/LISTING-1"), "LISTING-1", "not found", code="template_not_found")
    assert_not_found(api.delete(f"{T}/LISTING-1"))
    assert not blob_path(runtime, key).exists()  # nobody holds its PDF any more


def test_templates_are_per_client(api: Api, other_api: Api) -> None:
    create(api)
    assert_not_found(other_api.get(f"{T}/LISTING-1"))
    assert_not_found(other_api.delete(f"{T}/LISTING-1"))
    answer = other_api.create_session(
        documents=[from_template("LISTING-1", FileName="theirs.pdf")], signers=[signer("Seller 1")]
    )
    assert answer["Details"] == [
        "Error: theirs.pdf did not upload. Template 'LISTING-1' was not found."
    ]
    # The same FormId in another client is another template.
    create(other_api, pages=1, Fields=[], MergeFields=[])
    assert api.get(f"{T}/LISTING-1")["Templates"][0]["PageCount"] == 2


def test_post_with_an_existing_form_id_replaces_it(api: Api) -> None:
    first = create(api)["Templates"][0]
    second = create(api, pages=1, Name="Listing v2", Fields=[], MergeFields=[])["Templates"][0]
    assert (second["Name"], second["PageCount"], second["Fields"]) == ("Listing v2", 1, [])
    assert second["CreatedOn"] == first["CreatedOn"]
    assert api.get(T)["TotalCount"] == 1


def _template_document(file_name: str, data: bytes) -> dict[str, Any]:
    body = template_body(Fields=[FIELDS[0]], MergeFields=[])
    body["template"]["Document"] = {"FileName": file_name, "FileBytes": b64(data)}
    return body


def test_active_content_is_stripped_before_the_template_is_kept(api: Api, runtime: Runtime) -> None:
    t = api.post(T, _template_document("scripted.pdf", scripted_pdf()))["Templates"][0]
    assert t["PageCount"] == 1
    kept = blob_path(runtime, _template_blob(runtime, api, "LISTING-1")).read_bytes()
    with pikepdf.open(io.BytesIO(kept)) as pdf:
        assert "/OpenAction" not in pdf.Root and len(pdf.attachments) == 0
    answer = api.create_session(documents=[from_template("LISTING-1")])
    assert answer["Sessions"][0]["Documents"][0]["ProcessingStatus"] == "Ready"


def test_a_word_template_is_kept_as_its_pdf(api: Api, runtime: Runtime) -> None:
    t = api.post(T, _template_document("Listing.docx", sample_docx(pages=2)))["Templates"][0]
    assert (t["FileName"], t["PageCount"]) == ("Listing.docx", 2)
    kept = blob_path(runtime, _template_blob(runtime, api, "LISTING-1")).read_bytes()
    assert kept.startswith(b"%PDF-")
    assert "Purchase agreement page 2" in texts(kept)[1]
    answer = api.create_session(documents=[from_template("LISTING-1")])
    doc = answer["Sessions"][0]["Documents"][0]
    assert (doc["PageCount"], doc["ProcessingStatus"], len(doc["Fields"])) == (2, "Ready", 1)


def test_a_word_template_that_cannot_be_read_is_refused(api: Api) -> None:
    answer = api.post(T, _template_document("Listing.docx", sample_docx()[:300]))
    assert_error(answer, "template.Document.FileBytes", "not usable")
    assert api.get(T)["TotalCount"] == 0


# --- sessions copy templates -----------------------------------------------------------------


def test_a_session_copies_the_template(api: Api, runtime: Runtime) -> None:
    create(api, MergeFields=[])
    answer = api.create_session(
        documents=[from_template("LISTING-1", FormTag="Listing #7")],
        signers=[signer("Seller 1"), signer("buyer  1")],
    )
    doc = answer["Sessions"][0]["Documents"][0]
    assert (doc["FileName"], doc["FormId"], doc["FormTag"], doc["PageCount"]) == (
        "listing.pdf",
        "LISTING-1",
        "Listing #7",
        2,
    )
    assert doc["ProcessingStatus"] == "Ready"  # nothing to merge: the PDF is used as it is
    roles = [(f["Type"], f["Role"], f["PageNumber"], f["X"], f["Y"]) for f in doc["Fields"]]
    assert roles == [("sig", "Seller 1", 1, 72.0, 600.0), ("ddl", "Buyer 1", 2, 306.0, 396.0)]
    signers = {g["SignerRole"]: g["SignerId"] for g in answer["Sessions"][0]["Signers"]}
    assert [f["SignerId"] for f in doc["Fields"]] == [signers["Seller 1"], signers["buyer 1"]]
    sid = answer["SigningSessionId"]
    pdf = api.http.get(f"{S}/{sid}/documents/{doc['DocumentId']}/file", headers=api.headers)
    assert pdf.content == PDFS[2]


def test_template_edits_and_deletion_never_reach_a_session(api: Api, runtime: Runtime) -> None:
    create(api, MergeFields=[])
    sid = api.create_session(
        documents=[from_template("LISTING-1", FileName="Listing for 12 Elm.pdf")],
        signers=[signer("Seller 1")],
    )["SigningSessionId"]
    before = get_session(api, sid)["Documents"][0]
    create(api, pages=1, Fields=[], MergeFields=[], Name="Changed")  # an edit
    assert get_session(api, sid)["Documents"][0] == before
    edited = _template_blob(runtime, api, "LISTING-1")
    api.delete(f"{T}/LISTING-1")
    assert get_session(api, sid)["Documents"][0] == before
    doc_id = before["DocumentId"]
    pdf = api.http.get(f"{S}/{sid}/documents/{doc_id}/file", headers=api.headers)
    assert pdf.status_code == 200 and pdf.content == PDFS[2]  # the PDF it copied
    assert not blob_path(runtime, edited).exists()  # the edit's PDF went with the template


def test_purging_a_session_keeps_the_template_pdf(api: Api, runtime: Runtime) -> None:
    create(api, MergeFields=[])
    key = _template_blob(runtime, api, "LISTING-1")
    sid = completed(
        api, documents=[from_template("LISTING-1")], signers=[signer("Seller 1"), signer("Buyer 1")]
    )
    assert api.put(f"{S}/{sid}/purge?purgeNow=true")["Message"] == "Success"
    assert blob_path(runtime, key).exists()
    again = api.create_session(documents=[from_template("LISTING-1")])
    assert again["Details"] == []
    api.delete(f"{T}/LISTING-1")
    assert blob_path(runtime, key).exists()  # the new session still holds it


def test_unknown_form_id_refuses_that_document_only(api: Api) -> None:
    answer = api.create_session(
        documents=[from_template("nope"), {"FileName": "x.pdf", "FileBytes": list(tiny_pdf())}],
        signers=[signer("Seller 1")],
    )
    assert answer["Details"] == ["Error: nope did not upload. Template 'nope' was not found."]
    session = the_session(answer)
    assert [d["FileName"] for d in session["Documents"]] == ["x.pdf"]
    assert len(session["Signers"]) == 1


def test_template_with_merge_fields_waits_for_processing(api: Api, runtime: Runtime) -> None:
    create(api)
    sid = api.create_session(documents=[from_template("LISTING-1")])["SigningSessionId"]
    doc = get_session(api, sid)["Documents"][0]
    assert doc["ProcessingStatus"] == "Pending"
    assert doc["MergeFields"][0]["Key"] == "Company"
    assert_error(
        api.get(f"{S}/{sid}/documents/{doc['DocumentId']}/file"),
        "listing.pdf",
        "still being processed",
    )


def test_update_session_adds_template_documents_in_sequence(api: Api) -> None:
    create(api, MergeFields=[])
    sid = api.create_session()["SigningSessionId"]
    answer = update(
        api, sid, Documents=[from_template("LISTING-1", Sequence=1, FileName="first.pdf")]
    )
    names = [d["FileName"] for d in the_session(answer)["Documents"]]
    assert names == ["first.pdf", "offer.pdf"]


def test_template_documents_keep_the_request_order(api: Api) -> None:
    create(api, MergeFields=[])
    answer = api.create_session(
        documents=[from_template("LISTING-1"), pdf_document("a.pdf"), pdf_document("b.pdf")]
    )
    names = [d["FileName"] for d in the_session(answer)["Documents"]]
    assert names == ["listing.pdf", "a.pdf", "b.pdf"]
    sid = answer["SigningSessionId"]
    added = update(
        api,
        sid,
        Documents=[pdf_document("c.pdf"), from_template("LISTING-1"), pdf_document("d.pdf")],
    )
    names = [d["FileName"] for d in the_session(added)["Documents"]]
    assert names == ["listing.pdf", "a.pdf", "b.pdf", "c.pdf", "listing.pdf", "d.pdf"]


def test_remove_unassigned_roles_drops_template_fields(api: Api) -> None:
    create(api, MergeFields=[])
    answer = api.create_session(
        documents=[from_template("LISTING-1")],
        signers=[signer("Seller 1")],
        RemoveUnassignedSignerRoles=True,
    )
    session = the_session(answer)
    assert [f["Role"] for f in session["Documents"][0]["Fields"]] == ["Seller 1"]
    assert session["SessionInfo"]["RemoveUnassignedSignerRoles"] is True


def test_copy_session_keeps_the_copied_template_document(api: Api) -> None:
    create(api, MergeFields=[])
    sid = api.create_session(documents=[from_template("LISTING-1")])["SigningSessionId"]
    api.delete(f"{T}/LISTING-1")
    copy = api.post(f"{S}/copy", {"userName": api.username, "session": {"SigningSessionId": sid}})
    doc = the_session(copy)["Documents"][0]
    assert (doc["FormId"], doc["PageCount"], len(doc["Fields"])) == ("LISTING-1", 2, 2)


# --- the esign command -----------------------------------------------------------------------


def test_cli_creates_lists_and_deletes(
    runtime: Runtime,
    api: Api,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pdf = tmp_path / "lease.pdf"
    pdf.write_bytes(blank_pdf(1))
    fields = tmp_path / "fields.json"
    fields.write_text(json.dumps({"fields": FIELDS[:1], "MergeFields": MERGE_FIELDS}))
    base = ("--client-id", api.client_id)
    made = cli_json(
        monkeypatch, capsys, runtime, "templates", "create", *base, "--name", "Lease",
        "--file", str(pdf), "--fields", str(fields), "--form-id", "LEASE",
    )  # fmt: skip
    assert (made["FormId"], made["Name"], made["PageCount"], made["FileName"]) == (
        "LEASE",
        "Lease",
        1,
        "lease.pdf",
    )
    got = api.get(f"{T}/LEASE")["Templates"][0]
    assert [f["Role"] for f in got["Fields"]] == ["Seller 1"]
    assert got["MergeFields"][0]["Key"] == "Company"
    listed = cli_json(monkeypatch, capsys, runtime, "templates", "list", *base)
    assert [t["FormId"] for t in listed["Templates"]] == ["LEASE"]
    code, out, _ = run_cli(monkeypatch, capsys, runtime, "templates", "list", *base)
    assert code == 0 and "LEASE  Lease  1 pages" in out
    code, out, _ = run_cli(
        monkeypatch, capsys, runtime, "templates", "delete", *base, "--form-id", "LEASE"
    )
    assert code == 0 and api.get(T)["Templates"] == []


def test_cli_reports_bad_input(
    runtime: Runtime,
    api: Api,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(blank_pdf(1))
    bad = tmp_path / "bad.json"
    bad.write_text('{"Fields": [{"Type": "sig", "Role": "R", "PageNumber": 2, "X": 1, "Y": 1, '
                   '"Width": 10, "Height": 10}]}')  # fmt: skip
    base = ("templates", "create", "--client-id", api.client_id, "--name", "A")
    for extra, reason in [
        (("--file", str(tmp_path / "missing.pdf")), "--file cannot be read"),
        (
            ("--file", str(pdf), "--fields", str(bad)),
            "Fields[0].PageNumber must be between 1 and 1",
        ),
        (("--file", str(pdf), "--fields", str(pdf)), "--fields is not valid JSON"),
    ]:
        code, _, err = run_cli(monkeypatch, capsys, runtime, *base, *extra)
        assert code == 2 and reason in err, (extra, err)
    code, _, err = run_cli(
        monkeypatch, capsys, runtime, "templates", "delete", "--client-id", api.client_id,
        "--form-id", "none",
    )  # fmt: skip
    assert code == 2 and "Template none was not found" in err


def _template_blob(runtime: Runtime, api: Api, form_id: str) -> str:
    with runtime.deps.uow(write=False) as uow:
        template = uow.templates.get(api.client_id, form_id)
    assert template is not None
    return template.blob_key
