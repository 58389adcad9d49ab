"""The rest/v1 endpoints: decode, call one use case, encode."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, BinaryIO
from urllib.parse import quote

from starlette.responses import Response, StreamingResponse

from esign.api import answers, encode, wire
from esign.api.codec import WireError, query_flag
from esign.api.errors import problem_codes, problem_lines
from esign.api.router import Ctx, Route
from esign.domain.enums import LiteSortColumn, SessionStatus
from esign.domain.errors import SessionPurged, ValidationFailed
from esign.domain.lifecycle import Action, documents_gone
from esign.domain.model import SigningSession
from esign.services import (
    adjustments,
    auth,
    documents,
    lifecycle,
    queries,
    sessions,
    signers,
    templates,
    users,
    webhooks,
)
from esign.services.sessions import SessionResult

V1 = "/rest/v1"


def _need(ctx: Ctx, name: str) -> Any:
    value = ctx.body.get(name)
    if value is None or value == "":
        raise WireError(name, "is required")
    return value


def _present(ctx: Ctx, name: str) -> Any:
    value = ctx.body.get(name)
    if value is None:
        raise WireError(name, "is required")
    return value


def _session_answer(result: SessionResult) -> dict[str, Any]:
    return encode.success(
        result.session.id,
        problem_lines(result.problems),
        ErrorCodes=problem_codes(result.problems),
        SigningSessionId=result.session.id,
        Sessions=[encode.session(result.session)],
    )


# --- authentication (contract §2) ---------------------------------------------------------


def encrypt(ctx: Ctx) -> dict[str, Any]:
    return encode.success(
        auth.encrypt_string(ctx.deps, ctx.params["plainText"], ctx.params["salt"])
    )


def get_token(ctx: Ctx) -> dict[str, Any]:
    header = ctx.headers.get("authorization", "").strip()
    return encode.success(auth.get_token(ctx.deps, header, ctx.params["salt"], ctx.ip))


def token_username_password(ctx: Ctx) -> dict[str, Any]:
    header = ctx.headers.get("authorization", "").strip()
    return encode.success(
        auth.token_for_password(
            ctx.deps, ctx.params["userName"], header, ctx.params["salt"], ctx.ip
        )
    )


def authenticate_user(ctx: Ctx) -> dict[str, Any]:
    header = ctx.headers.get("authorization", "").strip()
    user = auth.authenticate_user(
        ctx.deps, header, ctx.params["userName"], ctx.params["salt"], ctx.ip
    )
    return encode.success(user.id, Users=[encode.user(user)])


def landing_url(ctx: Ctx) -> dict[str, Any]:
    return encode.success(auth.landing_url(ctx.deps))


def health(ctx: Ctx) -> dict[str, Any]:
    return encode.success("ok")


# --- users (U1–U6) -------------------------------------------------------------------------


def _users(*found: Any) -> dict[str, Any]:
    return encode.success(found[0].id if found else None, Users=[encode.user(u) for u in found])


def create_user(ctx: Ctx) -> dict[str, Any]:
    return _users(
        users.create_user(
            ctx.deps, ctx.who, ctx.body.get("salt", ""), wire.user_input(_need(ctx, "user"))
        )
    )


def get_user(ctx: Ctx) -> dict[str, Any]:
    return _users(users.get_user(ctx.deps, ctx.who, ctx.params["id"]))


def find_user(ctx: Ctx) -> dict[str, Any]:
    username = ctx.arg("username")
    if not username:
        raise ValidationFailed(field="username", reason="is required in the query string")
    return _users(users.find_user(ctx.deps, ctx.who, username))


def update_user(ctx: Ctx) -> dict[str, Any]:
    return _users(
        users.update_user(
            ctx.deps, ctx.who, ctx.body.get("salt", ""), wire.user_input(_need(ctx, "user"))
        )
    )


def update_user_by_username(ctx: Ctx) -> dict[str, Any]:
    return _users(
        users.update_user(
            ctx.deps,
            ctx.who,
            ctx.body.get("salt", ""),
            wire.user_input(_need(ctx, "user")),
            old_username=_need(ctx, "oldUsername"),
        )
    )


def provision_user(ctx: Ctx) -> dict[str, Any]:
    return _users(
        users.provision_user(
            ctx.deps, ctx.who, _need(ctx, "systemUserId"), _need(ctx, "userStatus")
        )
    )


# --- sessions (S1–S20) ---------------------------------------------------------------------


def create_session(ctx: Ctx) -> dict[str, Any]:
    cmd = wire.session_input(_need(ctx, "session"))
    return _session_answer(
        sessions.create_session(ctx.deps, ctx.who, ctx.body.get("userName", ""), cmd)
    )


def update_session(ctx: Ctx) -> dict[str, Any]:
    cmd = wire.session_input(_need(ctx, "session"), for_update=True)
    if not cmd.session_id:
        raise WireError("session.Id", "is required")
    return _session_answer(
        sessions.update_session(ctx.deps, ctx.who, ctx.body.get("userName", ""), cmd)
    )


def copy_session(ctx: Ctx) -> dict[str, Any]:
    # (The copy reads only its title and transaction id from SessionInfo: sessions._retitle.)
    cmd = wire.session_input(_need(ctx, "session"))
    if not cmd.session_id:
        raise WireError("session.SigningSessionId", "is required")
    options = wire.copy_options(ctx.body.get("copyOptions", {}))
    return _session_answer(
        sessions.copy_session(ctx.deps, ctx.who, ctx.body.get("userName", ""), options, cmd)
    )


def get_session(ctx: Ctx) -> Response:
    return encode.answer(queries.session_answer(ctx.deps, ctx.who, ctx.params["id"], _session_json))


def _session_json(session: SigningSession) -> bytes:
    return encode.json_text(_session_answer(SessionResult(session)))


def start_session(ctx: Ctx) -> dict[str, Any]:
    lifecycle.start_session(ctx.deps, ctx.who, ctx.params["id"], ctx.arg("returnUrl"))
    return encode.success("True")


def edit_session(ctx: Ctx) -> dict[str, Any]:
    username = ctx.body.get("userName") or ctx.arg("username") or None
    session = lifecycle.change_status(ctx.deps, ctx.who, ctx.params["id"], Action.PAUSE, username)
    return _session_answer(SessionResult(session))


def _status_action(action: Action) -> Any:
    def handler(ctx: Ctx) -> dict[str, Any]:
        lifecycle.change_status(ctx.deps, ctx.who, ctx.params["id"], action)
        return encode.success("True")

    return handler


def purge_session(ctx: Ctx) -> dict[str, Any]:
    purge_now = query_flag("purgeNow", ctx.arg("purgeNow"))
    lifecycle.purge_session(ctx.deps, ctx.who, ctx.params["id"], purge_now)
    return encode.success("True")


def cancel_purging(ctx: Ctx) -> dict[str, Any]:
    lifecycle.cancel_purging(ctx.deps, ctx.who, ctx.params["id"])
    return encode.success("True")


def update_transaction(ctx: Ctx) -> dict[str, Any]:
    sessions.update_transaction_id(
        ctx.deps,
        ctx.who,
        ctx.body.get("userName", ""),
        _need(ctx, "signingSessionId"),
        _present(ctx, "newTransactionId"),  # ("" clears it)
    )
    return encode.success("True")


def action_logs(ctx: Ctx) -> dict[str, Any]:
    trail = queries.action_logs(ctx.deps, ctx.who, ctx.params["id"])
    return encode.success(
        str(len(trail)), ActionLogs=[encode.action_log(e) for e in trail], TotalCount=len(trail)
    )


def verify_action_logs(ctx: Ctx) -> dict[str, Any]:
    report = queries.verify_session_audit(ctx.deps, ctx.who, ctx.params["id"])
    broken = report.broken
    if broken is None:
        return encode.success(
            "True", Verified=True, Events=report.events, Head=report.head, BrokenAt=None
        )
    return encode.success(
        "False",
        [f"The audit trail is broken at event {broken.event}: {broken.reason}."],
        Verified=False,
        Events=report.events,
        Head=report.head,
        BrokenAt=broken.seq,
    )


def by_transaction(full: bool) -> Any:
    def handler(ctx: Ctx) -> dict[str, Any]:
        found = queries.sessions_by_transaction(
            ctx.deps, ctx.who, ctx.params["userName"], ctx.params["transactionId"]
        )
        rendered = [encode.session(s) for s in found]
        if not full:
            for item in rendered:
                for doc in item["Documents"]:
                    doc["Fields"] = []
        return encode.success(str(len(found)), Sessions=rendered, TotalCount=len(found))

    return handler


def lite_sessions(ctx: Ctx) -> dict[str, Any]:
    column = ctx.arg("colName", "CreatedOn")
    sort = next((c for c in LiteSortColumn if c.value.lower() == column.lower()), None)
    if sort is None:
        raise ValidationFailed(
            field="colName", reason="must be one of " + ", ".join(c.value for c in LiteSortColumn)
        )
    order = ctx.arg("sortOrder", "desc").lower()
    if order not in ("asc", "desc"):
        raise ValidationFailed(field="sortOrder", reason="must be asc or desc")
    page = queries.lite_sessions(
        ctx.deps,
        ctx.who,
        ctx.params["username"],
        ctx.params["transactionId"],
        int(ctx.params["pageSize"]),
        int(ctx.params["pageNum"]),
        sort,
        order == "desc",
    )
    return encode.success(
        str(page.total), Sessions=[encode.lite_row(r) for r in page.rows], TotalCount=page.total
    )


def sessions_in(status: SessionStatus) -> Any:
    def handler(ctx: Ctx) -> dict[str, Any]:
        ids, total = queries.sessions_with_status(
            ctx.deps, ctx.who, status, int(ctx.params["pageSize"]), int(ctx.params["pageNum"])
        )
        return encode.success(str(total), SessionIds=ids, TotalCount=total)

    return handler


def invite_urls(ctx: Ctx) -> dict[str, Any]:
    links = signers.invite_urls(ctx.deps, ctx.who, ctx.params["id"])
    return encode.success(
        None,
        InviteUrls=[
            {"SignerId": link.signer_id, "EmailAddress": link.email, "Url": link.url}
            for link in links
        ],
    )


def session_files(ctx: Ctx) -> dict[str, Any]:
    session = queries.get_session(ctx.deps, ctx.who, ctx.params["id"])
    if documents_gone(session, ctx.deps.clock.now()):
        raise SessionPurged(session_id=session.id)
    raise ValidationFailed(
        field="Session",
        reason=f"is {session.status.label}; signed files are produced by the "
        "completion job, which this server version does not run yet",
    )


def document_file(ctx: Ctx) -> Response:
    name, file = documents.document_file(
        ctx.deps, ctx.who, ctx.params["id"], ctx.params["documentId"]
    )
    size = os.fstat(file.fileno()).st_size
    return StreamingResponse(
        _chunks(file),
        media_type="application/pdf",
        headers={"Content-Disposition": _inline(name), "Content-Length": str(size)},
    )


def _inline(name: str) -> str:
    """Content-Disposition for any file name: headers are Latin-1, so a plain ASCII name for
    old readers and the exact one, UTF-8 and percent-encoded, for the rest (RFC 6266)."""
    plain = "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in name)
    return f"inline; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def _chunks(file: BinaryIO, size: int = 256 * 1024) -> Iterator[bytes]:
    with file:
        while chunk := file.read(size):
            yield chunk


def page_image(ctx: Ctx) -> Response:
    try:
        width = int(ctx.arg("width", "800").strip() or "800")
    except ValueError:
        raise ValidationFailed(field="width", reason="must be a whole number of pixels") from None
    png = documents.page_image(
        ctx.deps,
        ctx.who,
        ctx.params["id"],
        ctx.params["documentId"],
        int(ctx.params["pageNumber"]),
        width,
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


def roles(ctx: Ctx) -> dict[str, Any]:
    return encode.success(None, Roles=queries.roles(ctx.deps, ctx.who))


# --- signers (G1–G4) -----------------------------------------------------------------------


def signer_token(ctx: Ctx) -> dict[str, Any]:
    return encode.success(signers.signer_invite_token(ctx.deps, ctx.who, ctx.params["signerId"]))


def send_invites(ctx: Ctx) -> dict[str, Any]:
    listed = [wire.signer_input(s) for s in ctx.body.get("signerList", [])]
    problems, invited = signers.send_invites(
        ctx.deps, ctx.who, _need(ctx, "signingSessionId"), [s.signer_id or "" for s in listed]
    )
    lines = problem_lines(problems)
    if problems and not invited:
        return encode.failure(lines, problem_codes(problems))
    return encode.success("True", lines, ErrorCodes=problem_codes(problems))


def update_signers(ctx: Ctx) -> dict[str, Any]:
    given = [wire.signer_input(s) for s in ctx.body.get("signers", [])]
    return _session_answer(
        sessions.signer_updates(
            ctx.deps, ctx.who, ctx.body.get("userName", ""), _need(ctx, "signingSessionId"), given
        )
    )


def signer_documents(ctx: Ctx) -> dict[str, Any]:
    queries.page_bounds(
        int(ctx.params["pageSize"]),
        int(ctx.params["pageNumber"]),
        ctx.deps.limits.max_id_page_size,
        num_field="pageNumber",
    )
    session = queries.get_session(
        ctx.deps, ctx.who, ctx.params["signingSessionId"], username=ctx.params["username"]
    )
    if session.signer(ctx.params["signerId"]) is None:
        raise ValidationFailed(field="signerId", reason="is not a signer of that session")
    # Uploads arrive with the signer experience; until then every signer has none.
    return encode.success("0", Documents=[], TotalCount=0)


# --- templates and anchor adjustment categories (contract §5) ------------------------------


def save_template(ctx: Ctx) -> dict[str, Any]:
    made = templates.save_template(
        ctx.deps, ctx.who.client_id, wire.template_input(_need(ctx, "template")), ctx.who.actor()
    )
    return encode.success(made.id, Templates=[encode.template(made)])


def list_templates(ctx: Ctx) -> dict[str, Any]:
    found = templates.list_templates(ctx.deps, ctx.who.client_id)
    return encode.success(
        str(len(found)),
        Templates=[encode.template_summary(t) for t in found],
        TotalCount=len(found),
    )


def get_template(ctx: Ctx) -> dict[str, Any]:
    found = templates.get_template(ctx.deps, ctx.who.client_id, ctx.params["formId"])
    return encode.success(found.id, Templates=[encode.template(found)])


def delete_template(ctx: Ctx) -> dict[str, Any]:
    templates.delete_template(ctx.deps, ctx.who.client_id, ctx.params["formId"], ctx.who.actor())
    return encode.success("True")


def _category_answer(name: str, offsets: dict[str, Any]) -> dict[str, Any]:
    return encode.success(name, Category=name, Adjustments=encode.adjustments(offsets))


def put_adjustments(ctx: Ctx) -> dict[str, Any]:
    name, offsets = adjustments.put_category(
        ctx.deps,
        ctx.who.client_id,
        ctx.params["category"],
        wire.offsets(_need(ctx, "Adjustments")),
        ctx.who.actor(),
    )
    return _category_answer(name, offsets)


def get_adjustments(ctx: Ctx) -> dict[str, Any]:
    return _category_answer(
        *adjustments.get_category(ctx.deps, ctx.who.client_id, ctx.params["category"])
    )


def delete_adjustments(ctx: Ctx) -> dict[str, Any]:
    adjustments.delete_category(
        ctx.deps, ctx.who.client_id, ctx.params["category"], ctx.who.actor()
    )
    return encode.success("True")


def list_adjustments(ctx: Ctx) -> dict[str, Any]:
    names = list(adjustments.categories(ctx.deps, ctx.who.client_id))
    return encode.success(str(len(names)), Categories=names, TotalCount=len(names))


# --- webhooks (contract §8) ----------------------------------------------------------------


def _whole_number(ctx: Ctx, name: str, default: str, least: int, most: int) -> int:
    try:
        value = int(ctx.arg(name, default))
    except ValueError:
        raise ValidationFailed(field=name, reason="must be a whole number") from None
    if not least <= value <= most:
        raise ValidationFailed(field=name, reason=f"must be between {least} and {most}")
    return value


def webhook_deliveries(ctx: Ctx) -> dict[str, Any]:
    size = _whole_number(ctx, "pageSize", "50", 1, 200)
    num = _whole_number(ctx, "pageNum", "0", 0, 10**9 - 1)
    found, total = webhooks.deliveries(ctx.deps, ctx.who, size, num)
    return encode.success(
        str(total), Deliveries=[encode.delivery(d) for d in found], TotalCount=total
    )


S = "/rest/v1/sessions"


_FILES = ("application/json", "application/zip")  # the files as JSON, or one zip (?format=zip)


def _yes_no(method: str, path: str, handler: Any, summary: str, **options: Any) -> Route:
    """A route that answers ReturnValue "True" when done and "False" when refused."""
    return Route(method, path, handler, summary, boolean=True, **options)


ROUTES: list[Route] = [
    Route("GET", V1 + "/health", health, "Health (liveness check)", auth=False),
    Route("GET", V1 + "/encrypt/{plainText}/{salt}", encrypt, "EncryptString", auth=False),
    Route(
        "GET",
        V1 + "/gettoken/{salt}",
        get_token,
        "GetToken (Authorization: encrypted API key)",
        auth=False,
        credential="the API key encrypted by EncryptString with this salt",
    ),
    Route(
        "GET",
        V1 + "/tokenusernamepassword/{userName}/{salt}",
        token_username_password,
        "GetTokenUserNamePassword (Authorization: encrypted password; deprecated)",
        auth=False,
        credential="the user's password encrypted by EncryptString with this salt",
    ),
    Route(
        "GET",
        V1 + "/authenticateuser/{userName}/{salt}",
        authenticate_user,
        "AuthenticateUser (Authorization: token:encryptedPassword)",
        auth=False,
        credential="a token, a colon, and the user's password encrypted with this salt",
    ),
    Route("GET", V1 + "/landingurl", landing_url, "GetLandingURL"),
    Route(
        "POST",
        V1 + "/users",
        create_user,
        "CreateUser",
        body=wire.USER_BODY,
        admin=True,
        answers=answers.USERS,
    ),
    Route(
        "GET",
        V1 + "/users",
        find_user,
        "GetUserByUsername",
        query=("username",),
        answers=answers.USERS,
    ),
    Route(
        "PUT",
        V1 + "/users/updateByUsername",
        update_user_by_username,
        "UpdateUserByUsername",
        body=wire.USER_BODY,
        answers=answers.USERS,
    ),
    Route(
        "PUT",
        V1 + "/users/provisionUser",
        provision_user,
        "ProvisionUser",
        body=wire.PROVISION_BODY,
        admin=True,
        answers=answers.USERS,
    ),
    Route(
        "PUT", V1 + "/users", update_user, "UpdateUser", body=wire.USER_BODY, answers=answers.USERS
    ),
    Route(
        "GET",
        V1 + "/users/{userName}/transactions/{transactionId}",
        by_transaction(True),
        "GetSessionsByTransactionId",
        answers=answers.SESSIONS,
    ),
    Route(
        "GET",
        "/rest/v2/users/{userName}/transactions/{transactionId}",
        by_transaction(False),
        "GetSessionsByTransactionIdMetadata",
        answers=answers.SESSIONS,
    ),
    Route("GET", V1 + "/users/{id}", get_user, "GetUserById", answers=answers.USERS),
    Route(
        "POST", S, create_session, "CreateSession", body=wire.SESSION_BODY, answers=answers.SESSION
    ),
    Route(
        "POST",
        S + "/updatesession",
        update_session,
        "UpdateSession / AddSignersDocumentsToSession",
        body=wire.SESSION_BODY,
        answers=answers.SESSION,
    ),
    Route(
        "POST",
        S + "/copy",
        copy_session,
        "CopySigningSession",
        body=wire.COPY_BODY,
        answers=answers.SESSION,
    ),
    Route(
        "GET",
        S + "/lite/{username}/{transactionId}/{pageSize:int}/{pageNum:int}/sortBy",
        lite_sessions,
        "GetSessionsLiteByTransactionId",
        query=("colName", "sortOrder"),
        answers=answers.LITE_SESSIONS,
    ),
    Route(
        "GET",
        S + "/archived/{id}/files",
        session_files,
        "GetArchivedSessionFiles",
        query=("format",),
        media=_FILES,
        answers=answers.FILES,
    ),
    Route(
        "GET",
        S + "/archived/{pageSize:int}/{pageNum:int}",
        sessions_in(SessionStatus.ARCHIVED),
        "GetArchivedSessions",
        answers=answers.SESSION_IDS,
    ),
    Route(
        "GET",
        S + "/deleted/{pageSize:int}/{pageNum:int}",
        sessions_in(SessionStatus.DELETED),
        "GetDeletedSessions",
        answers=answers.SESSION_IDS,
    ),
    Route(
        "GET",
        S + "/expired/{pageSize:int}/{pageNum:int}",
        sessions_in(SessionStatus.EXPIRED),
        "GetExpiredSessions",
        answers=answers.SESSION_IDS,
    ),
    Route(
        "PUT",
        S + "/EditSession/{id}",
        edit_session,
        "EditSession (pause)",
        body=wire.EDIT_BODY,
        query=("username",),
    ),
    _yes_no("PUT", S + "/cancelPurging/{id}", cancel_purging, "CancelPurgingSession"),
    _yes_no("PUT", S + "/{id}/start", start_session, "StartSession", query=("returnUrl",)),
    _yes_no(
        "PUT",
        S + "/{id}/cancel",
        _status_action(Action.CANCEL),
        "CancelSession",
        query=("returnURL",),
    ),
    _yes_no(
        "PUT", S + "/{id}/close", _status_action(Action.CLOSE), "CloseSession", query=("returnURL",)
    ),
    _yes_no(
        "PUT", S + "/{id}/purge", purge_session, "PurgeSessionDocs", query=("returnURL", "purgeNow")
    ),
    _yes_no("DELETE", S + "/{id}", _status_action(Action.DELETE), "DeleteSession"),
    Route(
        "GET",
        S + "/{id}/actionlogs",
        action_logs,
        "GetSessionActionLogs",
        answers=answers.ACTION_LOGS,
    ),
    Route(
        "GET",
        S + "/{id}/actionlogs/verify",
        verify_action_logs,
        "VerifySessionActionLogs (checks the hash chain and sealed head of the audit trail)",
        answers=answers.VERIFIED,
    ),
    Route(
        "GET",
        S + "/{id}/inviteurls",
        invite_urls,
        "GetSessionInviteUrls",
        answers=answers.INVITE_URLS,
    ),
    Route(
        "GET",
        S + "/{id}/files",
        session_files,
        "GetSessionFiles",
        query=("format",),
        media=_FILES,
        answers=answers.FILES,
    ),
    Route(
        "GET",
        S + "/{id}/documents/{documentId}/file",
        document_file,
        "GetDocumentFile",
        media=("application/pdf",),
    ),
    Route("GET", S + "/{id}", get_session, "GetSession", answers=answers.SESSION),
    _yes_no(
        "PUT",
        V1 + "/transaction/UpdateTxId",
        update_transaction,
        "UpdateTransactionId",
        body=wire.TRANSACTION_BODY,
    ),
    Route(
        "GET",
        S + "/{id}/documents/{documentId}/pages/{pageNumber:int}",
        page_image,
        "GetDocumentPageImage (PNG)",
        query=("width",),
        media=("image/png",),
    ),
    Route("GET", V1 + "/roles", roles, "GetRoles", answers=answers.ROLES),
    Route(
        "POST",
        V1 + "/templates",
        save_template,
        "CreateTemplate",
        body=wire.TEMPLATE_BODY,
        admin=True,
        answers=answers.TEMPLATE,
    ),
    Route("GET", V1 + "/templates", list_templates, "GetTemplates", answers=answers.TEMPLATES),
    Route("GET", V1 + "/templates/{formId}", get_template, "GetTemplate", answers=answers.TEMPLATE),
    _yes_no("DELETE", V1 + "/templates/{formId}", delete_template, "DeleteTemplate", admin=True),
    Route(
        "GET",
        V1 + "/anchoradjustments",
        list_adjustments,
        "GetAnchorAdjustmentCategories",
        answers=answers.ADJUSTMENTS,
    ),
    Route(
        "GET",
        V1 + "/anchoradjustments/{category}",
        get_adjustments,
        "GetAnchorAdjustmentCategory",
        answers=answers.ADJUSTMENT,
    ),
    Route(
        "PUT",
        V1 + "/anchoradjustments/{category}",
        put_adjustments,
        "PutAnchorAdjustmentCategory",
        body=wire.ADJUSTMENT_BODY,
        admin=True,
        answers=answers.ADJUSTMENT,
    ),
    _yes_no(
        "DELETE",
        V1 + "/anchoradjustments/{category}",
        delete_adjustments,
        "DeleteAnchorAdjustmentCategory",
        admin=True,
    ),
    Route("GET", V1 + "/signers/{signerId}/token", signer_token, "GetSignerInviteToken"),
    _yes_no(
        "PUT", V1 + "/signers/invite", send_invites, "SendSignerEmailInvites", body=wire.INVITE_BODY
    ),
    Route(
        "PUT",
        V1 + "/signers",
        update_signers,
        "UpdateSigners",
        body=wire.UPDATE_SIGNERS_BODY,
        answers=answers.SESSION,
    ),
    Route(
        "GET",
        V1 + "/signer/docs/{username}/{signingSessionId}/{signerId}/"
        "{pageNumber:int}/{pageSize:int}",
        signer_documents,
        "GetSignerDocuments",
        answers=answers.SIGNER_DOCUMENTS,
    ),
    Route(
        "GET",
        V1 + "/webhooks/deliveries",
        webhook_deliveries,
        "GetWebhookDeliveries (the delivery log)",
        query=("pageSize", "pageNum"),
        admin=True,
        answers=answers.DELIVERIES,
    ),
]
