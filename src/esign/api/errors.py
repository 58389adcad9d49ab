"""One table from the domain's error codes and problems to the wire's `Details` texts."""

from __future__ import annotations

from typing import Any

from esign.domain.errors import DomainError
from esign.domain.lifecycle import Action
from esign.domain.model import Problem

_TEXT: dict[str, str] = {
    "invalid_token": "Error: Invalid token",
    "invalid_api_key": "Error: Invalid API key",
    "invalid_user_account": "Error: Invalid user account information",
    "rate_limited": "Error: Too many failed attempts. Try again in {retry_after} seconds.",
    "username_not_found": "Error: Username not found.",
    "user_not_found": "Error: User not found.",
    "admin_only": "Error: Only an administrator of the account may do this.",
    "user_inactive": "Error: User {username} is inactive.",
    "username_taken": "Error: Username {username} already exists.",
    "session_not_found": "Error: Session not found.",
    "signer_not_found": "Error: Signer {signer_id} not found.",
    "signer_id_missing": "Error: A signer in the list has no SignerId.",
    "document_not_found": "Error: Document not found.",
    "wrong_status": "Error: The session is {status}; {action} is not allowed in that status.",
    "signer_active": "Error: Signer {signer} has status {status}; a session whose signer has "
    "started or finished can no longer be edited.",
    "validation_failed": "Error: {field} {reason}.",
    "documents_pending": "Error: Documents are still being processed (pending: {files}). "
    "Try again in a few seconds.",
    "session_purged": "You are attempting to access a session that has been purged.",
    "audit_trail_damaged": "Error: Event #{seq} of this session's audit trail cannot be read; "
    "the trail is damaged (an operator can run `esign audit verify`).",
    "purge_not_pending": "Error: The session is {status}, not waiting to be purged.",
    "purge_wait_over": "Error: The purge wait ended at {due} UTC; the session's documents are "
    "being purged.",
    "document_not_ready": "Error: Document {file_name} is still being processed.",
    "document_failed": "Error: Document {file_name} could not be processed; see its "
    "ProcessingErrors.",
    "template_not_found": "Error: Template {form_id} was not found.",
    "adjustment_category_not_found": "Error: Anchor adjustment category '{category}' was not "
    "found.",
    # Problems: one item of a request that was not applied while the rest was.
    "file_not_uploaded": "Error: {file_name} did not upload. {reason_sentence}",
    "duplicate_role": "Error: Signer {signer} was not added: role '{role}' is already "
    "assigned to another signer.",
    # The vendor's text, to the character (integrators match it): one line per such signer.
    "signer_invalid": "Error: All signers must have a last name and valid email address.",
    "signer_no_role": "Error: Signer {signer} has no SignerRole.",
    "signer_image_invalid": "Error: Signer {signer} was not added: {member} is not a PNG, "
    "JPEG or GIF image.",
    "signer_not_in_source": "Error: Signer {signer_id} is not a signer of the source session.",
    "signer_finished": "Error: Signer {signer} has already finished.",
}


# What a refused action is called in an answer: the operation the caller made.
_OPERATIONS: dict[str, str] = {
    Action.UPDATE: "UpdateSession",
    Action.START: "StartSession",
    Action.PAUSE: "EditSession",
    Action.CANCEL: "CancelSession",
    Action.CLOSE: "CloseSession",
    Action.DELETE: "DeleteSession",
    Action.PURGE: "PurgeSessionDocs",
    Action.UPDATE_TRANSACTION: "UpdateTransactionId",
    Action.INVITE: "SendSignerEmailInvites",
    Action.UPDATE_SIGNERS: "UpdateSigners",
    Action.ISSUE_LINK: "issuing signer links",
}


def text(code: str, params: dict[str, Any]) -> str:
    values = dict(params)
    if "action" in values:
        values["action"] = _OPERATIONS.get(str(values["action"]), values["action"])
    if "reason" in values:
        reason = str(values["reason"])
        values["reason_sentence"] = reason[:1].upper() + reason[1:].rstrip(".") + "."
    template = _TEXT.get(code, "Error: " + code.replace("_", " ") + ".")
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return "Error: " + code.replace("_", " ") + "."


def details_for(error: DomainError) -> list[str]:
    if error.code == "start_refused":
        return list(error.params.get("problems", []))
    return [text(error.code, error.params)]


def problem_lines(problems: list[Problem]) -> list[str]:
    return [text(p.code, p.params) for p in problems]


def problem_codes(problems: list[Problem]) -> list[str]:
    """The codes of the problems of an answer that is a Success all the same, each once."""
    return list(dict.fromkeys(p.code for p in problems))
