"""Helpers shared by the session and signer API tests (tests/api/test_sessions*.py,
tests/api/test_signers.py). The fixtures themselves live in tests/conftest.py."""

from __future__ import annotations

import base64
import io
import json
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pikepdf
from sqlalchemy import select

from esign.app import Runtime
from esign.domain.enums import FieldOption, FieldType, ProcessingStatus, SessionStatus
from esign.domain.model import Field, SigningSession
from esign.services import clients
from esign.storage.tables import metadata
from tests.conftest import Api, tiny_pdf

WEBHOOK_URL = "http://127.0.0.1:9/hook"
PURGED_TEXT = "You are attempting to access a session that has been purged."
SIGNER_RULE = "Error: All signers must have a last name and valid email address."

S = "/rest/v1/sessions"


# --- documents -----------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def raw_document(name: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"FileName": name, "FileBytes": b64(data), **extra}


def docx_bytes() -> bytes:
    """A small real Word file: accepted at upload, it waits Pending for conversion."""
    from tests.pdf.office_samples import docx, para

    return docx(para("Addendum: the parties agree."))


def unreadable_docx() -> bytes:
    """Structurally a .docx (accepted at upload), but its main part is not WordprocessingML:
    LibreOffice cannot read it, so processing fails."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_bytes())) as source, zipfile.ZipFile(buffer, "w") as out:
        for info in source.infolist():
            payload = source.read(info)
            if info.filename == "word/document.xml":
                payload = b"\x00\x01garbage"
            out.writestr(info, payload)
    return buffer.getvalue()


def encrypted_pdf(user_password: str = "open-sesame") -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(tiny_pdf(2))) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="owner-pw", user=user_password))
    return out.getvalue()


def blank_pdf(pages: int) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(612, 792))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def png_bytes() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


# --- answers -------------------------------------------------------------------------------


def the_session(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["Message"] == "Success", answer
    assert len(answer["Sessions"]) == 1, answer
    session: dict[str, Any] = answer["Sessions"][0]
    return session


def assert_error(answer: dict[str, Any], *fragments: str, code: str | None = None) -> str:
    """The answer is an application error whose Details mention every fragment."""
    assert answer["Message"] == "Error", answer
    # None, or "False" from the routes whose success is "True" (test_boolean_answers.py).
    assert answer["ReturnValue"] in (None, "False"), answer
    assert answer["Details"], answer
    text = " ".join(answer["Details"])
    for fragment in fragments:
        assert fragment.lower() in text.lower(), (fragment, answer)
    if code is not None:
        assert code in answer["ErrorCodes"], answer
    return text


def assert_not_found(answer: dict[str, Any]) -> None:
    assert_error(answer, "not found")
    assert answer["ErrorCodes"] and all(c.endswith("not_found") for c in answer["ErrorCodes"])


def get_session(api: Api, sid: str) -> dict[str, Any]:
    return the_session(api.get(f"{S}/{sid}"))


def status_of(api: Api, sid: str) -> int:
    return int(get_session(api, sid)["SessionInfo"]["StatusCode"])


def signer_statuses(api: Api, sid: str) -> dict[str, int]:
    """Role -> signer StatusCode."""
    return {g["SignerRole"]: g["StatusCode"] for g in get_session(api, sid)["Signers"]}


def new_session(api: Api, **kw: Any) -> str:
    return str(api.create_session(**kw)["SigningSessionId"])


def start(api: Api, sid: str) -> dict[str, Any]:
    return api.put(f"{S}/{sid}/start?returnUrl=https://crm.example.com/back")


def started(api: Api, **kw: Any) -> str:
    sid = new_session(api, **kw)
    answer = start(api, sid)
    assert answer["Message"] == "Success", answer
    return sid


def update(api: Api, sid: str, **session: Any) -> dict[str, Any]:
    return api.post(
        f"{S}/updatesession", {"userName": api.username, "session": {"Id": sid, **session}}
    )


def relogin(api: Api) -> None:
    """Tokens live 20 minutes of the (fake) clock: after moving it, log in again."""
    api.login()


# --- state set directly in the store (what later pipelines or signers would do) -------------


def mutate(rt: Runtime, api: Api, sid: str, change: Callable[[SigningSession], None]) -> None:
    with rt.deps.uow() as uow:
        session = uow.sessions.get(api.client_id, sid, for_update=True)
        assert session is not None
        change(session)
        uow.sessions.save(session)
        uow.commit()


def load(rt: Runtime, api: Api, sid: str) -> SigningSession:
    with rt.deps.uow(write=False) as uow:
        session = uow.sessions.get(api.client_id, sid)
    assert session is not None
    return session


def move_tx(api: Api, sid: str, tx: str, username: str | None = None) -> dict[str, Any]:
    return api.put(
        "/rest/v1/transaction/UpdateTxId",
        {
            "userName": api.username if username is None else username,
            "signingSessionId": sid,
            "newTransactionId": tx,
        },
    )


def force_status(rt: Runtime, api: Api, sid: str, status: SessionStatus) -> None:
    def change(s: SigningSession) -> None:
        s.status = status
        if status is SessionStatus.DELETED:  # as DeleteSession records it
            s.deleted_at = s.created_at

    mutate(rt, api, sid, change)


def set_signer_status(rt: Runtime, api: Api, sid: str, role: str, status: int) -> None:
    from esign.domain.enums import SignerStatus

    def change(s: SigningSession) -> None:
        found = s.signer_for_role(role)
        assert found is not None, role
        found.status = SignerStatus(status)

    mutate(rt, api, sid, change)


def set_processing(rt: Runtime, api: Api, sid: str, status: ProcessingStatus) -> None:
    def change(s: SigningSession) -> None:
        for d in s.documents:
            d.processing_status = status

    mutate(rt, api, sid, change)


def add_field(
    rt: Runtime,
    api: Api,
    sid: str,
    role: str,
    option: FieldOption = FieldOption.REQUIRED,
    kind: FieldType = FieldType.SIGNATURE,
    doc_index: int = 0,
) -> str:
    field_id = str(uuid.uuid4())

    def change(s: SigningSession) -> None:
        s.documents[doc_index].fields.append(
            Field(
                id=field_id,
                type=kind,
                option=option,
                role=role,
                page_index=0,
                x=0.1,
                y=0.8,
                width=0.3,
                height=0.04,
            )
        )

    mutate(rt, api, sid, change)
    return field_id


def check_refused_in(
    rt: Runtime,
    api: Api,
    statuses: Iterable[SessionStatus],
    call: Callable[[str], dict[str, Any]],
    code: str = "wrong_status",
) -> None:
    """For each status: a session forced into it refuses `call` with an error naming the
    status, and stays in it."""
    for status in statuses:
        sid = new_session(api)
        force_status(rt, api, sid, status)
        answer = call(sid)
        assert answer["Message"] == "Error", (status, answer)
        assert code in answer["ErrorCodes"], (status, answer)
        assert f"is {status.label}" in " ".join(answer["Details"]), (status, answer)
        assert load(rt, api, sid).status is status


# --- fabricating sessions in a given status through the API ---------------------------------


def completed(api: Api, **kw: Any) -> str:
    """A Completed session: sent, then closed by the sender."""
    sid = started(api, **kw)
    answer = api.put(f"{S}/{sid}/close")
    assert answer["Message"] == "Success", answer
    return sid


def cancelled(api: Api, **kw: Any) -> str:
    sid = new_session(api, **kw)
    answer = api.put(f"{S}/{sid}/cancel")
    assert answer["Message"] == "Success", answer
    return sid


# --- files and the database ------------------------------------------------------------------


def blob_path(rt: Runtime, key: str) -> Path:
    return rt.settings.data_dir / "blobs" / key[:2] / key[2:4] / key


def blob_keys(rt: Runtime, api: Api, sid: str) -> list[str]:
    return [d.blob_key for d in load(rt, api, sid).documents if d.blob_key]


def database_text(rt: Runtime) -> str:
    """Every row of every table, as text (works on SQLite and PostgreSQL)."""
    parts: list[str] = []
    with rt.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                parts.append(json.dumps([str(v) for v in row], default=str))
    return "\n".join(parts)


def database_files_bytes(rt: Runtime) -> bytes:
    """The raw bytes of the SQLite database files (empty on PostgreSQL)."""
    if rt.engine.dialect.name != "sqlite":
        return b""
    data = b""
    for path in rt.settings.data_dir.glob("*.db*"):
        if path.is_file():
            data += path.read_bytes()
    return data


# --- webhooks -------------------------------------------------------------------------------


def enable_webhooks(rt: Runtime, api: Api) -> None:
    clients.set_webhook(rt.deps, api.client_id, WEBHOOK_URL, "s3cret")


def webhook_events(api: Api, sid: str | None = None) -> list[dict[str, Any]]:
    """The `Data` of every recorded delivery (optionally of one session), in no set order."""
    answer = api.get("/rest/v1/webhooks/deliveries?pageSize=200&pageNum=0")
    assert answer["Message"] == "Success", answer
    found = []
    for d in answer["Deliveries"]:
        assert d["Url"] == WEBHOOK_URL
        data = json.loads(d["Body"])["Data"]
        if sid is None or data["SigningSessionId"] == sid:
            found.append(data)
    return found


def session_webhooks(api: Api, sid: str) -> list[int]:
    return sorted(e["Status"] for e in webhook_events(api, sid) if e["Type"] == "SessionStatus")


def signer_webhooks(api: Api, sid: str) -> list[tuple[str, int]]:
    return sorted(
        (e["SignerId"], e["Status"])
        for e in webhook_events(api, sid)
        if e["Type"] == "SignerStatus"
    )
