"""CPU per request in-process, without HTTP or load: far less noisy than bench/api.py.

Runs CreateSession and GetSession through esign's request handler (`Dispatcher._run`: JSON,
decoding, token check, use case, encoding: what a request thread does) one after the other,
in this thread, on a fresh data dir, with the same ~20 KB PDFs as bench/api.py; and the
baseline's `Store.create` (bench/baseline_app.py) the same way. Prints thread CPU and wall
time per request.

Environment: N (requests per measurement, default 1000), PROFILE=create|get (then prints a
cProfile of that many more requests; it inflates Python-heavy code, so use it for where,
not how much), SORT (the profile's order, default cumulative; tottime for self time), LINES
(how many of its lines, default 50), PHASES=1 (then times the steps of that many more
CreateSessions, each with its own clock: thread CPU and wall per request, nested steps
indented; a timer costs about a microsecond).

Run: .venv/bin/python bench/api_cpu.py
"""

from __future__ import annotations

import cProfile
import functools
import inspect
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from baseline_app import Store  # noqa: E402

from api import Documents, make_pdf, session_body  # noqa: E402
from esign.api.router import Ctx, Dispatcher  # noqa: E402
from esign.api.routes import ROUTES  # noqa: E402
from esign.app import build_runtime  # noqa: E402
from esign.config import Settings  # noqa: E402
from esign.pdf.inspect import PikePdfInspector  # noqa: E402
from esign.services import auth, clients, intake, sessions  # noqa: E402
from esign.storage.audit_repo import AuditRepo  # noqa: E402
from esign.storage.blobs import LocalBlobStore  # noqa: E402
from esign.storage.session_repo import SessionRepo  # noqa: E402
from esign.storage.unit_of_work import SqlUnitOfWork  # noqa: E402

N = int(os.environ.get("N", "1000"))


def measure(label: str, run: Callable[[int], None]) -> None:
    cpu, wall = time.thread_time(), time.perf_counter()
    for i in range(N):
        run(i)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    print(f"{label:<26}{cpu / N * 1e3:8.3f} ms CPU {wall / N * 1e3:8.3f} ms wall")


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="esign-cpu-"))
    rt = build_runtime(Settings.from_env(data_dir=root / "esign", public_url="http://bench"))
    made = clients.create_client(rt.deps, "Bench", "admin@bench.example.com")
    token = auth.get_token(rt.deps, auth.encrypt_string(rt.deps, made.api_key, "s"), "s", "ip")
    dispatcher = Dispatcher(rt.deps, ROUTES, 50 * 1024 * 1024)
    create = next(r for r in ROUTES if r.summary == "CreateSession")
    get = next(r for r in ROUTES if r.summary == "GetSession")

    def ctx(params: dict[str, str] | None = None) -> Ctx:
        headers = {"authorization": token, "content-type": "application/json"}
        return Ctx(rt.deps, params or {}, {}, headers, {}, "127.0.0.1", "bench")

    docs = Documents(make_pdf())
    bodies = [session_body(made.admin_username, docs.next()) for _ in range(4 * N + 50)]
    ids = []
    for body in bodies[:50]:  # warm-up, and sessions to read
        answer = orjson.loads(dispatcher._run(create, ctx(), body).body)
        assert answer["Message"] == "Success" and not answer["Details"], answer
        ids.append(answer["SigningSessionId"])
    todo = iter(bodies[50:])

    def run_create(_: int) -> None:
        dispatcher._run(create, ctx(), next(todo))

    def run_get(i: int) -> None:
        dispatcher._run(get, ctx({"id": ids[i % len(ids)]}), b"")

    store = Store(root / "baseline")
    base_bodies = [session_body("a", docs.next()) for _ in range(N)]
    measure("esign CreateSession", run_create)
    measure("esign GetSession", run_get)
    measure("baseline Store.create", lambda i: store.create(base_bodies[i]) and None)
    if os.environ.get("PHASES", "") in ("1", "true", "yes"):
        phases(run_create)
    which = os.environ.get("PROFILE", "")
    if which in ("create", "get"):
        profile = cProfile.Profile(time.thread_time)
        profile.enable()
        for i in range(N):
            (run_create if which == "create" else run_get)(i)
        profile.disable()
        pstats.Stats(profile).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(
            int(os.environ.get("LINES", "50"))
        )


# (owner, attribute, label): the steps of a CreateSession, in the order they run.
STEPS: list[tuple[Any, str, str]] = [
    (Dispatcher, "_load", "JSON"),
    (Dispatcher, "_decode", "decoding"),
    (auth, "authenticate", "token check"),
    (intake, "accept_documents", "documents"),
    (PikePdfInspector, "inspect", "  PDF inspection"),
    (LocalBlobStore, "put", "  blob write"),
    (intake, "accept_signers", "signers"),
    (SqlUnitOfWork, "__enter__", "BEGIN (write lock)"),
    (SessionRepo, "add", "session rows"),
    (sessions, "_audit_additions", "document, signer events made"),
    (SqlUnitOfWork, "commit", "commit"),
    (AuditRepo, "flush", "  audit events sealed, written"),
]


def phases(run_create: Callable[[int], None]) -> None:
    """Each step's thread CPU and wall time per CreateSession."""
    cpu: dict[str, int] = dict.fromkeys((label for _, _, label in STEPS), 0)
    wall = dict(cpu)

    def timed(step: Callable[..., Any], label: str) -> Callable[..., Any]:
        @functools.wraps(step)
        def run(*args: Any, **kwargs: Any) -> Any:
            c, w = time.thread_time_ns(), time.perf_counter_ns()
            try:
                return step(*args, **kwargs)
            finally:
                cpu[label] += time.thread_time_ns() - c
                wall[label] += time.perf_counter_ns() - w

        return run

    originals = [(owner, name, inspect.getattr_static(owner, name)) for owner, name, _ in STEPS]
    for (owner, name, original), (_, _, label) in zip(originals, STEPS, strict=True):
        wrapped = timed(getattr(owner, name), label)
        setattr(
            owner, name, staticmethod(wrapped) if isinstance(original, staticmethod) else wrapped
        )
    try:
        c, w = time.thread_time_ns(), time.perf_counter_ns()
        for i in range(N):
            run_create(i)
        c, w = time.thread_time_ns() - c, time.perf_counter_ns() - w
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    print(f"\nCreateSession steps ({N} requests): thread CPU and wall per request, µs")
    for label in cpu:
        print(f"  {label:<28}{cpu[label] / N / 1e3:8.1f}{wall[label] / N / 1e3:8.1f}")
    print(f"  {'the whole request':<28}{c / N / 1e3:8.1f}{w / N / 1e3:8.1f}")


if __name__ == "__main__":
    main()
