"""The relational schema. Aggregates keep their many small attributes in a JSON `data` column;
anything a query filters, sorts or locks on is a real column."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from esign.storage.types import UtcDateTime

metadata = MetaData()

UTC_DATETIME = UtcDateTime()

clients = Table(
    "clients",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTC_DATETIME, nullable=False),
    Column("settings", JSON, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("client_id", String(36), ForeignKey("clients.id"), nullable=False, index=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTC_DATETIME, nullable=False),
    Column("revoked_at", UTC_DATETIME),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("client_id", String(36), ForeignKey("clients.id"), nullable=False),
    Column("username", String(320), nullable=False),
    Column("status", Integer, nullable=False),
    Column("created_at", UTC_DATETIME, nullable=False),
    Column("data", JSON, nullable=False),
    UniqueConstraint("client_id", "username", name="uq_users_client_username"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("client_id", String(36), ForeignKey("clients.id"), nullable=False),
    Column("owner_user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("status", Integer, nullable=False),
    Column("title", String(500), nullable=False),
    Column("transaction_id", String(200), nullable=False),
    Column("created_at", UTC_DATETIME, nullable=False),
    Column("status_changed_at", UTC_DATETIME),
    Column("completed_at", UTC_DATETIME),
    Column("expires_on", UTC_DATETIME),
    Column("purge_due_at", UTC_DATETIME),
    Column("deleted_at", UTC_DATETIME),
    Column("version", Integer, nullable=False, default=0),
    Column("data", JSON, nullable=False),
    Index("ix_sessions_client_status", "client_id", "status"),
    Index("ix_sessions_client_tx", "client_id", "transaction_id"),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("session_id", String(36), ForeignKey("sessions.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("data", JSON, nullable=False),
)

signers = Table(
    "signers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("session_id", String(36), ForeignKey("sessions.id"), nullable=False, index=True),
    Column("client_id", String(36), nullable=False),
    Column("position", Integer, nullable=False),
    Column("status", Integer, nullable=False),
    Column("data", JSON, nullable=False),
)

# Which sessions use which blob: content addressing shares bytes between sessions (a copy
# reuses its source's files), so a purge deletes a blob only when nobody else holds it.
blob_refs = Table(
    "blob_refs",
    metadata,
    Column("blob_key", String(64), primary_key=True),
    Column("session_id", String(36), ForeignKey("sessions.id"), primary_key=True),
    Index("ix_blob_refs_session", "session_id"),
)

signer_links = Table(
    "signer_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("client_id", String(36), nullable=False),
    Column("session_id", String(36), nullable=False, index=True),
    Column("signer_id", String(36), nullable=False),
    Column("created_at", UTC_DATETIME, nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", String(36), primary_key=True),
    # The chain: a session's id, or for a client's own trail (users, keys, templates,
    # settings: decision 0035) the client's id.
    Column("session_id", String(36), nullable=False),
    Column("client_id", String(36), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("description", Text, nullable=False),
    Column("actor", JSON, nullable=False),
    Column("at", UTC_DATETIME, nullable=False),
    Column("data", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("session_id", "seq", name="uq_audit_session_seq"),
)

# Each trail's last event, sealed with the server's key (domain.audit.ChainHead, decision 0041).
audit_heads = Table(
    "audit_heads",
    metadata,
    Column("chain_id", String(36), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("seal", String(64), nullable=False),
)

# Facts about the installation itself: `key_check`, a digest made with the server's secret
# key, so that a process started with another key is stopped (decision 0044).
server_state = Table(
    "server_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("key", String(300), nullable=False, unique=True),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("run_at", UTC_DATETIME, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_until", UTC_DATETIME),
    Column("last_error", Text, nullable=False, default=""),
    Index("ix_jobs_status_run_at", "status", "run_at"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("client_id", String(36), nullable=False),
    Column("session_id", String(36), nullable=False),
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTC_DATETIME, nullable=False),
    Column("status", String(16), nullable=False),
    Column("next_attempt_at", UTC_DATETIME),
    Column("attempts", JSON, nullable=False),
    Index("ix_webhooks_client_created", "client_id", "created_at"),
)

auth_failures = Table(
    "auth_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bucket", String(200), nullable=False),
    Column("at", UTC_DATETIME, nullable=False),
    Index("ix_auth_failures_bucket_at", "bucket", "at"),
)

# A client's templates (FormId unique within the client). `blob_key` is a real column so a
# purge can see that a template still holds a blob a session also used.
templates = Table(
    "templates",
    metadata,
    Column("client_id", String(36), ForeignKey("clients.id"), primary_key=True),
    Column("id", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTC_DATETIME, nullable=False),
    Column("updated_at", UTC_DATETIME, nullable=False),
    Column("blob_key", String(64), nullable=False, index=True),
    Column("data", JSON, nullable=False),
)

# Rendered page images, cached by the PDF blob they come from: sessions sharing a PDF (a copy,
# a template) share its images, and they go when the last holder of that PDF purges it.
page_images = Table(
    "page_images",
    metadata,
    Column("source_key", String(64), primary_key=True),
    Column("page_index", Integer, primary_key=True),
    Column("width", Integer, primary_key=True),
    Column("image_key", String(64), nullable=False),
)
