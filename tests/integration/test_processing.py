"""The document processing job end to end (issue 3, items 3, 6, 7, 8, 9, 10): CreateSession or
UpdateSession records a `document.process` job; draining the queue runs the real pipeline
(sanitising, anchor tags, merge values, conversion) and the session shows the result:
ProcessingStatus, fields where the tags were, the prepared PDF, and page images."""

from __future__ import annotations

import base64
import io
from contextlib import ExitStack
from typing import Any

import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image
from reportlab.pdfgen import canvas
from sqlalchemy import func, select

from esign.app import Runtime
from esign.domain.ports import FileRefused, PreparedDocument, PrepareRequest
from esign.pdf.pdfium_lock import PDFIUM_LOCK
from esign.services import documents as document_service
from esign.storage import tables
from tests.api.session_helpers import (
    assert_error,
    blob_path,
    get_session,
    load,
    start,
    unreadable_docx,
    update,
)
from tests.conftest import Api, signer, tiny_pdf
from tests.pdf.builders import with_boxes

S = "/rest/v1/sessions"
TAG = "<sig_req_Seller 1_150>"
LEAD = "Seller signs here: "


def anchor_pdf(rotate: int = 0) -> bytes:
    """Two Letter pages drawn by reportlab: tags at known places, one malformed."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(612, 792))
    c.setFont("Helvetica", 12)
    c.drawString(72, 700, f"{LEAD}{TAG} and more")
    c.drawString(72, 650, "Date: <d_req_seller   1> Bad: <sig_xx> end")
    c.drawString(72, 600, "Pick: <ddl_req_Buyer 1_100_Cash|Only_Loan> Check <chk_opt_Buyer 1>")
    c.showPage()
    c.setFont("Helvetica", 12)
    c.drawString(300, 400, "Initials <ini_req_BUYER  1_40_9> <rdo_req_Seller 1_3>")
    c.showPage()
    c.save()
    if not rotate:
        return buf.getvalue()
    with pikepdf.open(io.BytesIO(buf.getvalue())) as pdf:
        for page in pdf.pages:
            page.rotate(rotate, relative=False)
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def document(name: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"FileName": name, "FileBytes": base64.b64encode(data).decode(), **extra}


def tagged_session(api: Api, **info: Any) -> tuple[str, str]:
    answer = api.create_session(
        documents=[document("tagged.pdf", anchor_pdf(), HasAnchorTags=True)],
        signers=[signer("Seller 1"), signer("Buyer 1")],
        **info,
    )
    sid = answer["SigningSessionId"]
    return sid, answer["Sessions"][0]["Documents"][0]["DocumentId"]


def the_document(api: Api, sid: str, index: int = 0) -> dict[str, Any]:
    doc: dict[str, Any] = get_session(api, sid)["Documents"][index]
    return doc


def fields_by_type(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["Type"]: f for f in doc["Fields"]}


def file_of(api: Api, sid: str, doc_id: str) -> bytes:
    response = api.http.get(f"{S}/{sid}/documents/{doc_id}/file", headers=api.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


def texts(pdf: bytes) -> list[str]:
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            return [page.get_textpage().get_text_range() for page in doc]
        finally:
            doc.close()


def page_png(api: Api, sid: str, doc_id: str, page: int, width: str = "") -> Image.Image:
    query = f"?width={width}" if width else ""
    response = api.http.get(
        f"{S}/{sid}/documents/{doc_id}/pages/{page}{query}", headers=api.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


# --- anchor tags -----------------------------------------------------------------------------


def test_anchor_tags_become_fields_and_leave_the_pdf(api: Api) -> None:
    sid, doc_id = tagged_session(api)
    pending = the_document(api, sid)
    assert (pending["ProcessingStatus"], pending["Fields"]) == ("Pending", [])
    assert_error(
        api.get(f"{S}/{sid}/documents/{doc_id}/file"), "tagged.pdf", "still being processed"
    )
    assert_error(start(api, sid), "pending", "tagged.pdf", code="documents_pending")

    assert api.drain() >= 1
    doc = the_document(api, sid)
    assert doc["ProcessingStatus"] == "Ready"
    assert doc["ProcessingErrors"] == [
        "Page 1: malformed tag \"<sig_xx>\" (unknown option 'xx' (req, opt or aut))"
    ]
    assert doc["PageCount"] == 2
    found = fields_by_type(doc)
    assert set(found) == {"sig", "d", "ddl", "chk", "ini", "rdo"}
    sig = found["sig"]
    lead = 72 + _width(LEAD)
    assert (sig["Option"], sig["Role"], sig["PageNumber"]) == ("req", "Seller 1", 1)
    assert sig["X"] == pytest.approx(lead, abs=1)
    assert sig["Y"] == pytest.approx(792 - 700 - 12, abs=1)  # the top of the tag's line
    assert (sig["Width"], sig["Height"]) == (150.0, 36.0)
    assert found["d"]["Role"] == "Seller 1"  # "seller   1" is the signer's role
    assert found["ini"]["Role"] == "Buyer 1" and found["ini"]["FontSize"] == 9.0
    assert (found["ini"]["PageNumber"], found["ini"]["Width"]) == (2, 40.0)
    assert found["ddl"]["Items"] == ["Cash Only", "Loan"]
    assert found["rdo"]["Items"] == ["1", "2", "3"]
    signers = {g["SignerRole"]: g["SignerId"] for g in get_session(api, sid)["Signers"]}
    assert sig["SignerId"] == signers["Seller 1"]

    pdf = file_of(api, sid, doc_id)
    first, second = texts(pdf)
    assert "<" not in first + second and "sig_req" not in first
    assert LEAD.strip() in first and "and more" in first and "Initials" in second
    assert start(api, sid)["Message"] == "Success"
    kinds = [e["Action"] for e in api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]]
    assert "document.processed" in kinds


def test_tag_region_has_no_ink_in_the_page_image(api: Api) -> None:
    sid, doc_id = tagged_session(api)
    api.drain()
    image = page_png(api, sid, doc_id, 1, "612").convert("L")  # one pixel per point
    assert image.size == (612, 792)
    top = 792 - 700 - 10
    lead = 72 + _width(LEAD)
    tag_box = image.crop((int(lead) + 1, top, int(lead + _width(TAG)) - 1, top + 12))
    lead_box = image.crop((72, top, int(lead) - 2, top + 12))
    assert tag_box.getextrema()[0] > 200, "the tag's glyphs are still drawn"
    assert lead_box.getextrema()[0] < 100, "the text before the tag is gone"


def test_rotated_pages_give_upright_fields(api: Api) -> None:
    answer = api.create_session(
        documents=[document("turned.pdf", anchor_pdf(rotate=90), HasAnchorTags=True)],
        signers=[signer("Seller 1")],
    )
    sid = answer["SigningSessionId"]
    api.drain()
    doc = the_document(api, sid)
    sig = fields_by_type(doc)["sig"]
    # Displayed 792 wide and 612 tall, the text runs down the page: the tag starting at user
    # (x, 700) shows at (700, x). A 150 pt field from there would leave the page: it is kept
    # on it, against the right edge.
    assert (sig["PageNumber"], sig["Width"], sig["Height"]) == (1, 150.0, 36.0)
    assert sig["X"] == pytest.approx(792 - 150, abs=0.01)
    assert sig["Y"] == pytest.approx(72 + _width(LEAD), abs=1)
    ini = fields_by_type(doc)["ini"]
    assert (ini["X"], ini["Y"]) == (
        pytest.approx(400, abs=1),
        pytest.approx(300 + _width("Initials "), abs=1),
    )


def test_adjustment_category_moves_and_resizes_the_fields(api: Api) -> None:
    plain, _ = tagged_session(api)
    offsets = {"sig": {"X": 10, "Y": -5, "Width": 20, "Height": 4}}
    assert api.put("/rest/v1/anchoradjustments/Shift", {"Adjustments": offsets})["Message"] == (
        "Success"
    )
    answer = api.create_session(
        documents=[
            document(
                "tagged.pdf", anchor_pdf(), HasAnchorTags=True, AnchorTagsAdjustmentCategory="shift"
            )
        ],
        signers=[signer("Seller 1"), signer("Buyer 1")],
    )
    shifted = answer["SigningSessionId"]
    api.drain()
    before, after = (fields_by_type(the_document(api, s)) for s in (plain, shifted))
    assert after["sig"]["X"] == pytest.approx(before["sig"]["X"] + 10, abs=0.01)
    assert after["sig"]["Y"] == pytest.approx(before["sig"]["Y"] - 5, abs=0.01)
    assert after["sig"]["Width"] == pytest.approx(170, abs=0.01)
    assert after["sig"]["Height"] == pytest.approx(40, abs=0.01)
    same = ("X", "Y", "Width", "Height")
    assert [after["ini"][k] for k in same] == [before["ini"][k] for k in same]  # sig only


def test_client_delimiters_and_space_character(api: Api, runtime: Runtime) -> None:
    from esign.services import clients

    clients.configure(runtime.deps, api.client_id, anchor_delimiters="[]", anchor_space_char="~")
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(612, 792))
    c.drawString(72, 700, "A [ddl_opt_Seller 1_90_Red~Car_Blue] and <sig_req_Seller 1> stays")
    c.save()
    sid = api.create_session(
        documents=[document("brackets.pdf", buf.getvalue(), HasAnchorTags=True)]
    )["SigningSessionId"]
    api.drain()
    doc = the_document(api, sid)
    assert [(f["Type"], f["Items"]) for f in doc["Fields"]] == [("ddl", ["Red Car", "Blue"])]
    assert "<sig_req_Seller 1> stays" in texts(file_of(api, sid, doc["DocumentId"]))[0]


def test_remove_unassigned_roles_also_removes_anchor_fields(api: Api) -> None:
    answer = api.create_session(
        documents=[document("tagged.pdf", anchor_pdf(), HasAnchorTags=True)],
        signers=[signer("Seller 1")],
        RemoveUnassignedSignerRoles=True,
    )
    api.drain()
    doc = the_document(api, answer["SigningSessionId"])
    assert {f["Role"] for f in doc["Fields"]} == {"Seller 1"}


def test_fields_of_roles_nobody_holds_stay_without_the_flag(api: Api) -> None:
    answer = api.create_session(
        documents=[document("tagged.pdf", anchor_pdf(), HasAnchorTags=True)],
        signers=[signer("Seller 1")],
    )
    sid = answer["SigningSessionId"]
    api.drain()
    roles = {f["Role"]: f["SignerId"] for f in the_document(api, sid)["Fields"]}
    assert roles["Buyer 1"] is None
    assert_error(start(api, sid), "role 'Buyer 1', which no signer holds")


# --- templates with merge fields -------------------------------------------------------------


def test_template_merge_values_are_stamped(api: Api) -> None:
    merge = [
        {"Key": "Company", "DefaultValue": "Default Co", "PageNumber": 1, "X": 72, "Y": 72,
         "Width": 250, "Height": 20},
        {"Key": "Agent", "DefaultValue": "Pat Agent", "PageNumber": 1, "X": 72, "Y": 120,
         "Width": 250, "Height": 20, "FontSize": 14},
        {"Key": "Empty", "PageNumber": 1, "X": 72, "Y": 160, "Width": 250, "Height": 20},
    ]  # fmt: skip
    body = {
        "template": {
            "FormId": "MERGE",
            "Name": "With merge fields",
            "Document": document("form.pdf", anchor_pdf()),
            "MergeFields": merge,
        }
    }
    assert api.post("/rest/v1/templates", body)["Message"] == "Success"
    seller = signer("Seller 1", MergeFieldMapping={"company": "RED Realty ÉÀ"})
    sid = api.create_session(documents=[{"FormId": "MERGE"}], signers=[seller])["SigningSessionId"]
    api.drain()
    doc = the_document(api, sid)
    assert doc["ProcessingStatus"] == "Ready"
    first = texts(file_of(api, sid, doc["DocumentId"]))[0]
    assert "RED Realty ÉÀ" in first and "Pat Agent" in first and "Default Co" not in first
    assert TAG in first  # HasAnchorTags was not set: the text stays as it is


def _merge_template(api: Api) -> None:
    merge = [{"Key": "Buyer", "DefaultValue": "-", "PageNumber": 1, "X": 72, "Y": 72,
              "Width": 250, "Height": 20}]  # fmt: skip
    fields = [{"Type": "ini", "Role": "Seller 1", "PageNumber": 1, "X": 300, "Y": 600,
               "Width": 40, "Height": 20}]  # fmt: skip
    body = {"template": {"FormId": "M2", "Name": "M2", "Document": document("m.pdf", anchor_pdf()),
                         "MergeFields": merge, "Fields": fields}}  # fmt: skip
    assert api.post("/rest/v1/templates", body)["Message"] == "Success"


def test_signers_added_to_a_draft_restamp_its_prepared_document(api: Api) -> None:
    _merge_template(api)
    sid = api.create_session(
        documents=[{"FormId": "M2", "HasAnchorTags": True}], signers=[signer("Seller 1")]
    )["SigningSessionId"]
    api.drain()
    before = the_document(api, sid)
    assert "Late" not in texts(file_of(api, sid, before["DocumentId"]))[0]
    kinds = sorted(f["Type"] for f in before["Fields"])
    update(api, sid, Signers=[signer("Buyer 1", MergeFieldMapping={"Buyer": "Late"})])
    assert the_document(api, sid)["ProcessingStatus"] == "Pending"
    assert api.drain() == 1
    after = the_document(api, sid)
    assert after["ProcessingStatus"] == "Ready"
    assert "Late" in texts(file_of(api, sid, after["DocumentId"]))[0]
    assert sorted(f["Type"] for f in after["Fields"]) == kinds  # tag fields remade, not doubled
    template_field = [f for f in before["Fields"] if (f["Type"], f["X"]) == ("ini", 300)]
    assert len(template_field) == 1
    assert [f for f in after["Fields"] if (f["Type"], f["X"]) == ("ini", 300)] == template_field
    actions = [e["Action"] for e in api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]]
    assert "document.to_prepare_again" in actions
    # Values that change nothing prepare nothing.
    update(api, sid, Signers=[signer("Buyer 2", email="b2@example.com")])
    assert api.drain() == 0


def test_once_sent_documents_keep_their_merge_values(api: Api) -> None:
    _merge_template(api)
    sid = api.create_session(documents=[{"FormId": "M2"}], signers=[signer("Seller 1")])[
        "SigningSessionId"
    ]
    api.drain()
    assert start(api, sid)["Message"] == "Success"
    update(api, sid, Signers=[signer("Buyer 1", MergeFieldMapping={"Buyer": "Late"})])
    assert api.drain() == 0
    doc = the_document(api, sid)
    assert "Late" not in texts(file_of(api, sid, doc["DocumentId"]))[0]


def test_a_preparation_with_stale_merge_values_is_not_kept(api: Api, runtime: Runtime) -> None:
    _merge_template(api)
    sid = api.create_session(documents=[{"FormId": "M2"}], signers=[signer("Seller 1")])[
        "SigningSessionId"
    ]
    doc_id = the_document(api, sid)["DocumentId"]
    with ExitStack() as files:
        stale = document_service._work(runtime.deps, files, api.client_id, sid, doc_id)
        update(api, sid, Signers=[signer("Buyer 1", MergeFieldMapping={"Buyer": "Late"})])
        assert stale is not None  # read before the update, prepared after it
        prepared = files.enter_context(runtime.deps.processor.prepare(stale.request))
        assert not document_service._store(runtime.deps, stale, prepared, "stale-key")
    api.drain()
    assert "Late" in texts(file_of(api, sid, doc_id))[0]


# --- other files -----------------------------------------------------------------------------


def test_an_image_becomes_a_one_page_pdf(api: Api) -> None:
    image = Image.new("RGB", (850, 1100), "white")
    buf = io.BytesIO()
    image.save(buf, format="PNG", dpi=(100, 100))
    sid = api.create_session(documents=[document("scan.png", buf.getvalue())])["SigningSessionId"]
    assert the_document(api, sid)["ProcessingStatus"] == "Pending"
    api.drain()
    doc = the_document(api, sid)
    assert (doc["ProcessingStatus"], doc["PageCount"], doc["ContentType"]) == (
        "Ready",
        1,
        "image/png",
    )
    pdf = file_of(api, sid, doc["DocumentId"])
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        assert [float(v) for v in opened.pages[0].mediabox] == [0, 0, 612, 792]


def test_a_file_that_cannot_be_converted_fails_with_its_reason(api: Api) -> None:
    from tests.pdf.office_samples import require_office

    require_office()  # LibreOffice is what cannot read it: the upload check passes it
    sid = api.create_session(
        documents=[document("broken.docx", unreadable_docx()), document("fine.pdf", anchor_pdf())]
    )["SigningSessionId"]
    api.drain()
    broken, fine = get_session(api, sid)["Documents"]
    assert (broken["ProcessingStatus"], fine["ProcessingStatus"]) == ("Failed", "Ready")
    assert broken["ProcessingErrors"] and "could not" in broken["ProcessingErrors"][0]
    assert_error(
        api.get(f"{S}/{sid}/documents/{broken['DocumentId']}/file"), "could not be processed"
    )
    assert_error(start(api, sid), "broken.docx could not be processed")
    kinds = [e["Action"] for e in api.get(f"{S}/{sid}/actionlogs")["ActionLogs"]]
    assert "document.failed" in kinds


def test_a_processor_bug_fails_the_document_instead_of_leaving_it_pending(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(request: PrepareRequest) -> PreparedDocument:
        raise RuntimeError("boom")

    monkeypatch.setattr(runtime.deps.processor, "prepare", broken)
    sid, _ = tagged_session(api)
    api.drain()
    doc = the_document(api, sid)
    assert doc["ProcessingStatus"] == "Failed"
    assert "internal error" in doc["ProcessingErrors"][0]


def test_word_file_is_merged_converted_and_scanned(api: Api) -> None:
    from tests.pdf.office_samples import docx, para, require_office

    require_office()
    body = para("Buyer company: {{Company}}") + para("Sign: <sig_req_Buyer 1_120>")
    buyer = signer("Buyer 1", MergeFieldMapping={"Company": "Blue Homes"})
    sid = api.create_session(
        documents=[document("offer.docx", docx(body), HasAnchorTags=True)], signers=[buyer]
    )["SigningSessionId"]
    api.drain()
    doc = the_document(api, sid)
    assert doc["ProcessingStatus"] == "Ready", doc["ProcessingErrors"]
    assert [(f["Type"], f["Role"], f["Width"]) for f in doc["Fields"]] == [
        ("sig", "Buyer 1", 120.0)
    ]
    text = texts(file_of(api, sid, doc["DocumentId"]))[0]
    assert "Blue Homes" in text and "{{" not in text and "sig_req" not in text


# --- jobs, copies, purges --------------------------------------------------------------------


def test_processing_twice_changes_nothing(api: Api, runtime: Runtime) -> None:
    sid, doc_id = tagged_session(api)
    api.drain()
    once = the_document(api, sid)
    document_service.process_document(runtime.deps, api.client_id, sid, doc_id)
    assert the_document(api, sid) == once


def test_one_job_per_document_even_if_recorded_twice(api: Api, runtime: Runtime) -> None:
    sid, _ = tagged_session(api)
    session = load(runtime, api, sid)
    from esign.services import events

    with runtime.deps.uow() as uow:
        events.process_later(runtime.deps, uow, session, session.documents[0])
        uow.commit()
    with runtime.engine.connect() as conn:
        count = conn.execute(
            select(func.count())
            .select_from(tables.jobs)
            .where(tables.jobs.c.name == "document.process")
        ).scalar_one()
    assert count == 1


def test_a_copy_of_a_pending_document_is_processed_too(api: Api) -> None:
    sid, _ = tagged_session(api)
    copy = api.post(f"{S}/copy", {"userName": api.username, "session": {"SigningSessionId": sid}})
    copy_id = copy["SigningSessionId"]
    api.drain()
    for session_id in (sid, copy_id):
        doc = the_document(api, session_id)
        assert doc["ProcessingStatus"] == "Ready" and len(doc["Fields"]) == 6


def test_purge_deletes_original_prepared_and_page_images(api: Api, runtime: Runtime) -> None:
    sid, doc_id = tagged_session(api)
    api.drain()
    page_png(api, sid, doc_id, 1)
    doc = load(runtime, api, sid).documents[0]
    assert doc.original_blob_key and doc.blob_key and doc.original_blob_key != doc.blob_key
    with runtime.engine.connect() as conn:
        images = list(conn.execute(select(tables.page_images.c.image_key)).scalars())
    keys = [doc.original_blob_key, doc.blob_key, *images]
    assert len(keys) == 3 and all(blob_path(runtime, k).exists() for k in keys)
    assert api.put(f"{S}/{sid}/cancel")["Message"] == "Success"
    assert api.put(f"{S}/{sid}/purge?purgeNow=true")["Message"] == "Success"
    assert not any(blob_path(runtime, k).exists() for k in keys)
    with runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.page_images)).scalar_one() == 0


# --- page images -----------------------------------------------------------------------------


def test_page_images_have_the_width_asked_for(api: Api, runtime: Runtime) -> None:
    sid, doc_id = tagged_session(api)
    api.drain()
    default = page_png(api, sid, doc_id, 1)
    assert default.size[0] == 800 and abs(default.size[1] - 800 * 792 / 612) <= 1
    assert page_png(api, sid, doc_id, 2, "400").size[0] == 400
    assert page_png(api, sid, doc_id, 2, "5").size[0] == 100  # clamped
    assert page_png(api, sid, doc_id, 2, "99999").size[0] == 2000
    assert_error(api.get(f"{S}/{sid}/documents/{doc_id}/pages/3"), "pageNumber", "1 and 2")
    assert_error(api.get(f"{S}/{sid}/documents/{doc_id}/pages/1?width=wide"), "width")


def test_page_images_are_cached(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid, doc_id = tagged_session(api)
    api.drain()
    first = page_png(api, sid, doc_id, 1, "300")

    def no_more(pdf: bytes, page_index: int, width: int) -> bytes:
        raise AssertionError("rendered again")

    monkeypatch.setattr(runtime.deps.renderer, "render", no_more)
    again = page_png(api, sid, doc_id, 1, "300")
    assert again.tobytes() == first.tobytes()


def test_page_images_of_pending_documents_and_other_clients(api: Api, other_api: Api) -> None:
    sid, doc_id = tagged_session(api)
    assert_error(api.get(f"{S}/{sid}/documents/{doc_id}/pages/1"), "still being processed")
    api.drain()
    assert_error(other_api.get(f"{S}/{sid}/documents/{doc_id}/pages/1"), "not found")


def test_a_page_that_cannot_be_drawn_is_an_error(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(pdf: bytes, page_index: int, width: int) -> bytes:
        raise FileRefused("no")

    monkeypatch.setattr(runtime.deps.renderer, "render", refuse)
    sid, doc_id = tagged_session(api)
    api.drain()
    assert_error(api.get(f"{S}/{sid}/documents/{doc_id}/pages/1"), "could not be processed")


def _width(text: str) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return float(stringWidth(text, "Helvetica", 12))


# --- active content in plain PDFs ------------------------------------------------------------


def scripted_pdf() -> bytes:
    """A plain one-page PDF (no tags) that runs JavaScript when opened and embeds a file."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(612, 792))
    c.drawString(72, 700, "Purchase agreement")
    c.showPage()
    c.save()
    with pikepdf.open(io.BytesIO(buf.getvalue())) as pdf:
        script = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
        pdf.Root.OpenAction = pdf.make_indirect(script)
        pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ...")
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def test_a_plain_pdf_with_active_content_is_stripped_before_anyone_sees_it(api: Api) -> None:
    answer = api.create_session(documents=[document("scripted.pdf", scripted_pdf())])
    sid = answer["SigningSessionId"]
    doc_id = answer["Sessions"][0]["Documents"][0]["DocumentId"]
    assert the_document(api, sid)["ProcessingStatus"] == "Pending"
    assert api.drain() >= 1
    assert the_document(api, sid)["ProcessingStatus"] == "Ready"
    served = file_of(api, sid, doc_id)
    with pikepdf.open(io.BytesIO(served)) as pdf:
        assert "/OpenAction" not in pdf.Root
        assert len(pdf.attachments) == 0
    assert "Purchase agreement" in texts(served)[0]


def test_a_plain_pdf_without_active_content_is_ready_at_once(api: Api) -> None:
    answer = api.create_session()
    assert answer["Sessions"][0]["Documents"][0]["ProcessingStatus"] == "Ready"


def test_a_page_whose_crop_box_is_off_the_page_is_an_error_not_a_crash(api: Api) -> None:
    """Found by fuzzing: PDFium gives such a page no size; drawing it divided by zero."""
    pdf = with_boxes(tiny_pdf(), mediabox=[0, 0, 612, 792], cropbox=[1000, 1000, 2000, 2000])
    doc = {"FileName": "c.pdf", "FileBytes": base64.b64encode(pdf).decode()}
    sid = api.create_session(documents=[doc])["SigningSessionId"]
    doc_id = api.get(f"{S}/{sid}/")["Sessions"][0]["Documents"][0]["DocumentId"]
    response = api.http.get(f"{S}/{sid}/documents/{doc_id}/pages/1", headers=api.headers)
    assert response.status_code == 200
    assert_error(response.json(), "could not be processed")
