"""The `esign` command: serve, worker, migrate, and the operator's admin commands."""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from esign import startup
from esign.api import encode, wire
from esign.api.codec import WireError, decode
from esign.api.malformed import EnvelopeHttpToolsProtocol
from esign.app import Runtime, build_app, build_runtime
from esign.cli_options import port_number, read_environment, thread_count
from esign.config import Settings, SettingsError
from esign.domain.errors import DomainError, ValidationFailed
from esign.domain.jobs import shown_url
from esign.domain.model import AnchorOffset, Template
from esign.services import adjustments, clients, queries, templates
from esign.services.commands import TemplateInput
from esign.storage.migrate import revisions

log = logging.getLogger("esign")


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        data_dir=getattr(args, "data_dir", None),
        database_url=getattr(args, "database_url", None),
        redis_url=getattr(args, "redis_url", None),
        public_url=getattr(args, "public_url", None) or _served_url(args),
    )


def _served_url(args: argparse.Namespace) -> str | None:
    """`serve` without a public URL (neither --public-url nor ESIGN_PUBLIC_URL, which the
    option reads): the address it listens on, so that links and the landing URL reach this
    server rather than the default port."""
    if not hasattr(args, "port"):
        return None
    return _local_url(args.host, args.port)


def _local_url(host: str, port: int) -> str:
    """Where this machine reaches a server listening on `host`: a listener on every address
    is reached on the loopback one, an IPv6 address in brackets."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        help="where the database, blobs and keys live (ESIGN_DATA_DIR, default ./esign-data)",
    )
    p.add_argument(
        "--database-url", help="SQLAlchemy URL (ESIGN_DATABASE_URL); default SQLite in the data dir"
    )
    p.add_argument("--redis-url", help="use Redis for jobs (ESIGN_REDIS_URL)")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="esign", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP server (and a worker)")
    _common(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=port_number, default=8080)
    serve.add_argument(
        "--public-url", help="the URL people reach this server at (ESIGN_PUBLIC_URL)"
    )
    serve.add_argument(
        "--no-worker", action="store_true", help="do not start a job worker beside the server"
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        help="addresses of the proxies whose X-Forwarded-For names the client, comma-separated "
        "('*': any); the rate limits and the audit trail count that address",
    )

    worker = sub.add_parser("worker", help="run a job worker")
    _common(worker)
    worker.add_argument("--threads", type=thread_count, default=2)

    _common(sub.add_parser("migrate", help="bring the database schema up to date"))

    client_cmd = sub.add_parser("clients", help="manage clients").add_subparsers(
        dest="action", required=True
    )
    create = _action(client_cmd, "create", "create a client, its admin and API key", client=False)
    create.add_argument("--name", required=True)
    create.add_argument("--admin-email", required=True)
    _action(client_cmd, "rotate-key", "revoke the client's keys, issue one")
    hook = _action(client_cmd, "set-webhook", "set the client's webhook URL")
    hook.add_argument("--url", required=True, help="empty to remove the webhook")
    hook.add_argument("--secret", help="signing secret (default: keep or generate)")
    conf = _action(client_cmd, "configure", "change a client's settings")
    conf.add_argument("--token-lifetime-minutes", type=int)
    conf.add_argument("--purge-wait-hours", type=int)
    conf.add_argument("--roles", help="comma-separated predefined signer roles")
    conf.add_argument(
        "--anchor-delimiters", help='anchor tag opening and closing characters, e.g. "<>"'
    )
    conf.add_argument(
        "--anchor-space-char", help="the character that stands for a space in dropdown items"
    )
    _action(client_cmd, "list", "list clients", client=False, json=False)
    adjust = _action(
        client_cmd, "set-adjustment", "set one tag type's offset in an anchor adjustment category"
    )
    adjust.add_argument("--category", required=True)
    adjust.add_argument("--type", required=True, help="sig, ini, dt, d, t, txt, chk, rdo or ddl")
    for axis in ("x", "y", "width", "height"):
        adjust.add_argument(f"--{axis}", type=float, default=0.0, help="points (default 0)")
    _action(client_cmd, "adjustments", "show the anchor adjustment categories")
    drop = _action(client_cmd, "delete-adjustment", "delete an anchor adjustment category")
    drop.add_argument("--category", required=True)
    _template_parsers(sub)

    user_cmd = sub.add_parser("users", help="manage users").add_subparsers(
        dest="action", required=True
    )
    add = _action(user_cmd, "create", "add a user to a client")
    add.add_argument("--username", required=True)
    add.add_argument("--first-name", required=True)
    add.add_argument("--last-name", required=True)
    add.add_argument("--password")
    add.add_argument("--admin", action="store_true")

    audit = sub.add_parser("audit", help="audit trail tools").add_subparsers(
        dest="action", required=True
    )
    verify = audit.add_parser("verify", help="check a session's hash chain")
    _common(verify)
    verify.add_argument("session_id")
    read_environment(top)
    return top


def _action(
    parent: Any, name: str, help: str, *, client: bool = True, json: bool = True
) -> argparse.ArgumentParser:
    """An admin sub-command: the common options, and usually --client-id and --json."""
    parser: argparse.ArgumentParser = parent.add_parser(name, help=help)
    _common(parser)
    if client:
        parser.add_argument("--client-id", required=True)
    if json:
        parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _template_parsers(sub: Any) -> None:
    cmd = sub.add_parser("templates", help="manage a client's templates").add_subparsers(
        dest="action", required=True
    )
    create = _action(cmd, "create", "create (or replace) a template from a PDF")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--file", required=True, help="the template's document: PDF, Word, RTF, ODT, text or image"
    )
    create.add_argument("--form-id", default="", help="the FormId (default: a new UUID)")
    create.add_argument(
        "--fields", help='JSON file: {"Fields": [...], "MergeFields": [...]} as in the API'
    )
    _action(cmd, "list", "list the client's templates")
    delete = _action(cmd, "delete", "delete a template (sessions keep their copies)", json=False)
    delete.add_argument("--form-id", required=True)


def _print(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data) if getattr(args, "json", False) else text)


def cmd_clients(args: argparse.Namespace, rt: Runtime) -> int:
    deps = rt.deps
    if args.action == "create":
        made = clients.create_client(deps, args.name, args.admin_email)
        _print(
            args,
            {
                "ClientId": made.client_id,
                "ApiKey": made.api_key,
                "AdminUsername": made.admin_username,
                "AdminPassword": made.admin_password,
            },
            f"ClientId: {made.client_id}\nApiKey: {made.api_key}\n"
            f"AdminUsername: {made.admin_username}\nAdminPassword: {made.admin_password}\n"
            "Keep the key and password now: only their hashes are stored.",
        )
    elif args.action == "rotate-key":
        key = clients.rotate_key(deps, args.client_id)
        _print(args, {"ClientId": args.client_id, "ApiKey": key}, f"ApiKey: {key}")
    elif args.action == "set-webhook":
        secret = clients.set_webhook(deps, args.client_id, args.url, args.secret)
        _print(
            args,
            {"ClientId": args.client_id, "WebhookUrl": args.url, "WebhookSecret": secret},
            f"WebhookUrl: {args.url or '(none)'}\nWebhookSecret: {secret}",
        )
    elif args.action == "configure":
        roles = args.roles.split(",") if args.roles is not None else None
        c = clients.configure(
            deps,
            args.client_id,
            token_lifetime_minutes=args.token_lifetime_minutes,
            purge_wait_hours=args.purge_wait_hours,
            roles=roles,
            anchor_delimiters=args.anchor_delimiters,
            anchor_space_char=args.anchor_space_char,
        )
        settings = {
            "TokenLifetimeMinutes": c.settings.token_lifetime_minutes,
            "PurgeWaitHours": c.settings.purge_wait_hours,
            "Roles": c.settings.roles,
            "AnchorDelimiters": c.settings.anchor_open + c.settings.anchor_close,
            "AnchorSpaceChar": c.settings.anchor_space_char,
        }
        _print(
            args,
            {"ClientId": c.id, **settings},
            "\n".join(f"{k}: {v}" for k, v in settings.items()),
        )
    elif args.action in ("set-adjustment", "adjustments", "delete-adjustment"):
        return _adjustments(args, rt)
    else:
        for c in clients.list_clients(deps):
            url = c.settings.webhook_url
            print(f"{c.id}  {c.name}  webhook={shown_url(url) if url else '-'}")
    return 0


def _adjustments(args: argparse.Namespace, rt: Runtime) -> int:
    clients.require_client(rt.deps, args.client_id)
    if args.action == "set-adjustment":
        offset = AnchorOffset(args.x, args.y, args.width, args.height)
        adjustments.set_offset(rt.deps, args.client_id, args.category, args.type, offset)
    elif args.action == "delete-adjustment":
        adjustments.delete_category(rt.deps, args.client_id, args.category)
    found = adjustments.categories(rt.deps, args.client_id)
    data = {name: encode.adjustments(offsets) for name, offsets in found.items()}
    lines = [
        f"{name}  {tag}: X {o['X']:g}  Y {o['Y']:g}  Width {o['Width']:g}  Height {o['Height']:g}"
        for name, offsets in data.items()
        for tag, o in offsets.items()
    ]
    _print(args, {"ClientId": args.client_id, "Categories": data}, "\n".join(lines) or "(none)")
    return 0


def cmd_templates(args: argparse.Namespace, rt: Runtime) -> int:
    clients.require_client(rt.deps, args.client_id)
    if args.action == "create":
        made = templates.save_template(rt.deps, args.client_id, _template_input(args))
        text = f"FormId: {made.id}\nName: {made.name}\nPageCount: {made.page_count}"
        _print(args, _template_row(made), text)
    elif args.action == "list":
        found = templates.list_templates(rt.deps, args.client_id)
        rows = [_template_row(t) for t in found]
        text = "\n".join(f"{t.id}  {t.name}  {t.page_count} pages" for t in found)
        _print(args, {"Templates": rows}, text or "(none)")
    else:
        templates.delete_template(rt.deps, args.client_id, args.form_id)
        print(f"deleted template {args.form_id}")
    return 0


def _template_row(t: Template) -> dict[str, Any]:
    return {
        **encode.template_summary(t),
        "CreatedOn": t.created_at.isoformat(),
        "UpdatedOn": t.updated_at.isoformat(),
    }


def _read(path: str, option: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ValidationFailed(field=option, reason=f"cannot be read ({exc.strerror})") from None


def _template_input(args: argparse.Namespace) -> TemplateInput:
    """The same shape as the API's `template` member: the wire decoder reads the JSON file."""
    raw: Any = {}
    if args.fields:
        try:
            raw = json.loads(_read(args.fields, "--fields"))
        except ValueError:
            raise ValidationFailed(field="--fields", reason="is not valid JSON") from None
        if not isinstance(raw, dict):
            raise ValidationFailed(field="--fields", reason="must hold one JSON object")
    pdf = base64.b64encode(_read(args.file, "--file")).decode()
    document = {"FileName": Path(args.file).name, "FileBytes": pdf}
    given = {**raw, "Name": args.name, "FormId": args.form_id, "Document": document}
    try:
        decoded = decode(wire.TEMPLATE, given, "template")
    except WireError as exc:
        raise ValidationFailed(field=exc.path, reason=exc.problem) from None
    return wire.template_input(decoded)


def cmd_users(args: argparse.Namespace, rt: Runtime) -> int:
    if not args.password:
        print("esign: --password (or ESIGN_USER_PASSWORD) is required", file=sys.stderr)
        return 2
    user = clients.add_user(
        rt.deps,
        args.client_id,
        args.username,
        args.first_name,
        args.last_name,
        args.password,
        args.admin,
    )
    _print(
        args,
        {"SystemUserId": user.id, "Username": user.username},
        f"SystemUserId: {user.id}\nUsername: {user.username}",
    )
    return 0


def cmd_audit(args: argparse.Namespace, rt: Runtime) -> int:
    report = queries.verify_audit(rt.deps, args.session_id)
    if report.events == 0 and not report.session_found:
        print(f"esign: no session or client {args.session_id}", file=sys.stderr)
        return 2
    if report.events == 0:  # every session starts with its creation event
        print(f"BROKEN: session {args.session_id} has no audit events; its trail was deleted")
        return 1
    if report.broken is not None:
        b = report.broken
        print(f"BROKEN at event {b.event}: {b.reason}")
        return 1
    print(f"OK: {report.events} events, chain head {report.head}")
    return 0


def _first_start(rt: Runtime, host: str, port: int) -> None:
    if clients.client_count(rt.deps) > 0:
        return
    made = clients.create_client(rt.deps, "Demo", "admin@demo.example.com")
    encrypted = rt.deps.cipher.encrypt(made.api_key, "demo")
    base = _local_url(host, port)
    print("=" * 72)
    print("First start: created the demo client (only hashes are stored; keep these now)")
    print(f"  ClientId:      {made.client_id}")
    print(f"  ApiKey:        {made.api_key}")
    print(f"  AdminUsername: {made.admin_username}")
    print(f"  AdminPassword: {made.admin_password}")
    print("Get a token:")
    print(f"  curl -s {base}/rest/v1/gettoken/demo -H 'Authorization: {encrypted}'")
    print("=" * 72, flush=True)


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def cmd_serve(args: argparse.Namespace, rt: Runtime) -> int:
    import uvicorn

    problem = _cannot_listen(args.host, args.port)
    if problem:
        print(f"esign: cannot listen on {args.host}:{args.port}: {problem}", file=sys.stderr)
        return 2
    worker = None
    # This server queues jobs there, and its worker (if any) takes them: checked before either.
    startup.reach_queue(rt.jobs.huey, rt.settings.redis_url)
    _first_start(rt, args.host, args.port)
    if not args.no_worker:
        # huey's consumer wants a main thread for its signal handlers: its own process.
        env = {
            **os.environ,
            "ESIGN_DATA_DIR": str(rt.settings.data_dir),
            "ESIGN_PARENT_PID": str(os.getpid()),
        }
        if rt.settings.database_url:
            env["ESIGN_DATABASE_URL"] = rt.settings.database_url
        if rt.settings.redis_url:
            env["ESIGN_REDIS_URL"] = rt.settings.redis_url
        env["ESIGN_QUEUE_NAME"] = rt.settings.queue_name
        # Interrupts are ignored until the worker runs (a stop while it is still importing
        # would print a traceback); then huey's handlers, or the parent watch, stop it.
        # Its own session: a Ctrl-C in the terminal reaches this process alone, which passes
        # it on once (two would make huey stop at once rather than finish its jobs).
        worker = subprocess.Popen(
            [sys.executable, "-c", _WORKER_CHILD], env=env, start_new_session=True
        )
    # uvicorn shuts down on SIGTERM, then raises it again once its own handler is gone: with
    # the default action that would end this process before it stops the worker.
    signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        config = uvicorn.Config(
            build_app(rt),
            host=args.host,
            port=args.port,
            log_level="info",
            access_log=False,
            timeout_graceful_shutdown=5,
            http=EnvelopeHttpToolsProtocol,
            forwarded_allow_ips=args.forwarded_allow_ips,
        )
        uvicorn.Server(config).run()
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0


_WORKER_CHILD = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "from esign.cli import main; sys.exit(main(['worker', '--no-migrate']))"
)


def _cannot_listen(host: str, port: int) -> str | None:
    """Why uvicorn would fail to bind, found before a worker is started for nothing."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(infos[0][4])
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _exit_with_parent(parent_pid: int) -> None:
    """A worker started by `esign serve` stops when serve dies, even by SIGKILL."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGINT)  # huey's graceful shutdown

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def cmd_worker(args: argparse.Namespace, rt: Runtime) -> int:
    parent = os.environ.get("ESIGN_PARENT_PID", "")
    if parent.isdigit():
        _exit_with_parent(int(parent))
    startup.reach_queue(rt.jobs.huey, rt.settings.redis_url)
    consumer = rt.jobs.huey.create_consumer(
        workers=args.threads, worker_type="thread", periodic=True, check_worker_health=True
    )
    consumer.run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs each request's whole URL at INFO: a webhook URL may carry a token in its
    # query or a password before its host, which the logs must never hold.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    argv = list(sys.argv[1:] if argv is None else argv)
    migrate = "--no-migrate" not in argv
    argv = [a for a in argv if a != "--no-migrate"]
    try:
        args = parser().parse_args(argv)
        rt = build_runtime(_settings(args), migrate=migrate)
        handlers = {
            "serve": cmd_serve,
            "worker": cmd_worker,
            "clients": cmd_clients,
            "users": cmd_users,
            "audit": cmd_audit,
            "templates": cmd_templates,
            "migrate": _migrated,
        }
        code = handlers[args.command](args, rt)
        sys.stdout.flush()  # here, where a reader that went away can still be caught
        return code
    except BrokenPipeError:
        # The output's reader stopped reading (`esign clients list | head`): nothing is
        # wrong here. Python would complain again when it flushes at exit: point it nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except DomainError as exc:
        from esign.api.errors import details_for

        print("esign: " + "; ".join(details_for(exc)), file=sys.stderr)
        return 2
    except SettingsError as exc:
        print(f"esign: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _migrated(args: argparse.Namespace, rt: Runtime) -> int:
    found, _ = revisions(rt.engine)
    print(f"database schema is up to date (revision {found})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
