"""Background jobs: recorded with their cause, idempotent, claimed by exactly one runner among
threads and processes, found again by the sweep when the queue loses them, and run by huey on
SQLite or Redis, in process (drain) or by a real `esign worker`."""

from __future__ import annotations

import multiprocessing
import random
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from esign.app import Runtime
from esign.domain.jobs import Job, JobStatus
from esign.services import clients
from esign.services import jobs as job_service
from esign.services.context import new_id
from esign.storage import tables as t
from esign.storage.session_repo import SessionRepo
from tests.conftest import Api, FakeClock, make_api
from tests.integration.conftest import (
    WAIT,
    Receiver,
    append_handler,
    assert_signed,
    claim_in_process,
    completed_runs,
    deliveries,
    drop_queue,
    job_row,
    process_env,
    queue_keys,
    record_job,
    start_esign,
    stop,
    wait_until,
)

SECRET = "whsec_jobs"


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A test job type, `test.append`, whose every completed run adds a line to this file."""
    out = tmp_path / "runs.txt"
    monkeypatch.setitem(job_service.HANDLERS, "test.append", append_handler(out, pause=0.05))
    return out


def due_ids(runtime: Runtime) -> list[str]:
    return [job_id for job_id, _ in job_service.due_jobs(runtime.deps)]


def _cancelled_draft(api: Api) -> str:
    """One SessionStatus webhook: a Draft without signers, cancelled."""
    sid: str = api.create_session(signers=[])["SigningSessionId"]
    assert api.put(f"/rest/v1/sessions/{sid}/cancel")["Message"] == "Success"
    return sid


# --- run_job -----------------------------------------------------------------------------------


def test_a_finished_job_does_nothing_the_second_time(runtime: Runtime, runs: Path) -> None:
    job_id = record_job(runtime, "test.append", {"tag": "one"}, dispatch=False)
    assert job_service.run_job(runtime.deps, job_id) is None
    assert completed_runs(runs) == ["one"]
    assert job_row(runtime, job_id)["status"] == JobStatus.DONE.value
    assert job_service.run_job(runtime.deps, job_id) is None
    assert job_service.run_job(runtime.deps, "no-such-job") is None
    assert completed_runs(runs) == ["one"]
    row = job_row(runtime, job_id)
    assert row["status"] == JobStatus.DONE.value and row["attempts"] == 1
    assert due_ids(runtime) == []


def test_a_dispatched_job_runs_once_however_often_it_is_queued(
    runtime: Runtime, runs: Path
) -> None:
    record_job(runtime, "test.append", {"tag": "q"})
    runtime.jobs.sweep()  # a sweep racing the queue: the job is queued twice now
    assert runtime.jobs.drain() == 2
    assert completed_runs(runs) == ["q"]


def test_the_same_key_is_recorded_once(runtime: Runtime) -> None:
    def job() -> Job:
        return Job(new_id(), "test.append", {"tag": "k"}, "same-key", runtime.deps.clock.now())

    with runtime.deps.uow() as uow:
        assert uow.jobs.add(job()) is True
        assert uow.jobs.add(job()) is False
        uow.commit()
    with runtime.deps.uow() as uow:
        assert uow.jobs.add(job()) is False
        uow.commit()
    assert len(due_ids(runtime)) == 1


def test_a_job_waits_for_its_time(runtime: Runtime, runs: Path, clock: FakeClock) -> None:
    job = Job(new_id(), "test.append", {"tag": "later"}, new_id(), clock.now() + timedelta(hours=1))
    with runtime.deps.uow() as uow:
        uow.jobs.add(job)
        uow.commit()
    assert job_service.run_job(runtime.deps, job.id) is None
    assert due_ids(runtime) == []
    clock.advance(hours=1)
    assert due_ids(runtime) == [job.id]
    runtime.jobs.sweep()
    runtime.jobs.drain()
    assert completed_runs(runs) == ["later"]


def test_a_job_woken_before_its_time_runs_at_its_time(
    runtime: Runtime, clock: FakeClock, runs: Path
) -> None:
    """The queue may wake a job up to a second early; it is put back for its time, not left
    for the next sweep."""
    job_id = record_job(runtime, "test.append", {"tag": "due"}, dispatch=False)
    due = clock.now()
    clock.current = due - timedelta(milliseconds=400)
    assert job_service.run_job(runtime.deps, job_id) == due
    assert completed_runs(runs) == []
    clock.current = due
    assert job_service.run_job(runtime.deps, job_id) is None
    assert completed_runs(runs) == ["due"]


def test_a_failing_job_backs_off_then_gives_up(
    runtime: Runtime, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def broken(deps: Any, payload: dict[str, Any]) -> None:
        calls.append(1)
        raise RuntimeError("boom")

    monkeypatch.setitem(job_service.HANDLERS, "test.broken", broken)
    job_id = record_job(runtime, "test.broken", {}, dispatch=False)
    waits = []
    for _ in range(job_service.MAX_ATTEMPTS - 1):
        again = job_service.run_job(runtime.deps, job_id)
        assert again is not None
        waits.append(again - clock.now())
        assert job_row(runtime, job_id)["last_error"] == "RuntimeError: boom"
        # Not due yet: put back for its time if that is near, else left to the sweep.
        soon = again - clock.now() <= timedelta(minutes=1)
        assert job_service.run_job(runtime.deps, job_id) == (again if soon else None)
        clock.current = again
    assert waits == sorted(waits) and waits[0] < waits[-1]
    assert job_service.run_job(runtime.deps, job_id) is None  # the last attempt
    row = job_row(runtime, job_id)
    assert row["status"] == JobStatus.FAILED.value
    assert row["attempts"] == job_service.MAX_ATTEMPTS
    assert len(calls) == job_service.MAX_ATTEMPTS
    clock.advance(days=1)
    assert due_ids(runtime) == []


def test_an_unknown_job_type_fails_without_killing_the_runner(runtime: Runtime) -> None:
    job_id = record_job(runtime, "test.nobody-handles-this", {}, dispatch=False)
    assert job_service.run_job(runtime.deps, job_id) is None
    row = job_row(runtime, job_id)
    assert row["status"] == JobStatus.FAILED.value
    assert "no handler" in row["last_error"]


# --- exactly one runner ------------------------------------------------------------------------


def test_threads_racing_for_the_same_jobs_complete_each_once(runtime: Runtime, runs: Path) -> None:
    tags = [f"job{i}" for i in range(6)]
    ids = [record_job(runtime, "test.append", {"tag": tag}, dispatch=False) for tag in tags]
    threads = 6
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        order = list(ids)
        random.Random(seed).shuffle(order)
        try:
            barrier.wait(timeout=WAIT)
            for job_id in order:
                job_service.run_job(runtime.deps, job_id)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=WAIT)
    assert not any(thread.is_alive() for thread in pool)
    assert errors == []
    assert sorted(completed_runs(runs)) == sorted(tags)
    for job_id in ids:
        row = job_row(runtime, job_id)
        assert (row["status"], row["attempts"]) == (JobStatus.DONE.value, 1)


def test_processes_racing_for_the_same_jobs_complete_each_once(
    runtime: Runtime, runs: Path
) -> None:
    """Separate processes, each with its own runtime on the same database."""
    tags = [f"p{i}" for i in range(10)]
    ids = [record_job(runtime, "test.append", {"tag": tag}, dispatch=False) for tag in tags]
    ctx = multiprocessing.get_context("spawn")
    count = 2
    barrier = ctx.Barrier(count)
    procs = []
    for n in range(count):
        order = list(ids)
        random.Random(n).shuffle(order)
        procs.append(
            ctx.Process(
                target=claim_in_process,
                args=(
                    str(runtime.settings.data_dir),
                    runtime.settings.database_url,
                    order,
                    str(runs),
                    barrier,
                ),
            )
        )
    for proc in procs:
        proc.start()
    try:
        for proc in procs:
            proc.join(timeout=WAIT)
        assert [proc.exitcode for proc in procs] == [0] * count
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
    lines = runs.read_text().splitlines()
    assert sorted(line.split()[0] for line in lines) == sorted(tags)
    # Not one process doing everything while the others were still starting.
    assert len({line.split()[1] for line in lines}) >= 2, lines
    for job_id in ids:
        row = job_row(runtime, job_id)
        assert (row["status"], row["attempts"]) == (JobStatus.DONE.value, 1)


# --- recorded with their cause ------------------------------------------------------------------


def _job_count(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.jobs)).scalar_one())


def test_jobs_are_recorded_and_queued_only_with_the_change_that_causes_them(
    api: Api, runtime: Runtime, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients.set_webhook(runtime.deps, api.client_id, receiver.url, SECRET)
    sid = api.create_session(signers=[])["SigningSessionId"]
    assert _job_count(runtime) == 0

    def failing_save(self: Any, session: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(SessionRepo, "save", failing_save)
    response = api.http.put(f"/rest/v1/sessions/{sid}/cancel", headers=api.headers)
    assert response.status_code == 500
    monkeypatch.undo()
    # The change did not happen, so neither did its job, its webhook or its audit event.
    assert _job_count(runtime) == 0
    assert _queued(runtime) == 0
    assert deliveries(api) == []
    session = api.get(f"/rest/v1/sessions/{sid}")["Sessions"][0]
    assert session["SessionInfo"]["StatusCode"] == 1
    assert [e["Action"] for e in api.get(f"/rest/v1/sessions/{sid}/actionlogs")["ActionLogs"]] == [
        "session.created",
        "document.added",
    ]

    # When it does happen, the job reaches the queue only once it is committed: a worker
    # that picks it up at once must find it.
    seen: list[bool] = []
    enqueue = runtime.jobs.huey.storage.enqueue

    def watching_enqueue(data: bytes, priority: Any = None) -> Any:
        seen.append(_job_count(runtime) == 1)  # read through another connection
        return enqueue(data, priority)

    monkeypatch.setattr(runtime.jobs.huey.storage, "enqueue", watching_enqueue)
    assert api.put(f"/rest/v1/sessions/{sid}/cancel")["Message"] == "Success"
    monkeypatch.undo()
    assert seen == [True]
    assert _queued(runtime) == 1
    runtime.jobs.drain()
    assert len(receiver.snapshot()) == 1


# --- lost jobs and the sweep -------------------------------------------------------------------


def test_a_job_the_queue_never_got_is_found_by_the_sweep(runtime: Runtime, runs: Path) -> None:
    job_id = record_job(runtime, "test.append", {"tag": "lost"}, dispatch=False)
    assert runtime.jobs.drain() == 0
    assert completed_runs(runs) == []
    assert due_ids(runtime) == [job_id]
    runtime.jobs.sweep()
    assert runtime.jobs.drain() == 1
    assert completed_runs(runs) == ["lost"]
    assert due_ids(runtime) == []


def test_a_job_whose_runner_died_is_taken_over_after_its_lease(
    runtime: Runtime, runs: Path, clock: FakeClock
) -> None:
    job_id = record_job(runtime, "test.append", {"tag": "orphan"}, dispatch=False)
    with runtime.deps.uow() as uow:  # a worker claims it, then dies without a word
        assert uow.jobs.claim(job_id, clock.now(), clock.now() + runtime.deps.limits.job_lease)
        uow.commit()
    runtime.jobs.sweep()
    runtime.jobs.drain()
    assert completed_runs(runs) == []  # held: nobody else may run it yet
    clock.advance(seconds=runtime.deps.limits.job_lease.total_seconds() + 1)
    runtime.jobs.sweep()
    runtime.jobs.drain()
    assert completed_runs(runs) == ["orphan"]
    assert job_row(runtime, job_id)["status"] == JobStatus.DONE.value


def test_a_runner_that_outlived_its_lease_cannot_undo_the_new_owner(
    runtime: Runtime, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runner A hangs past its lease; B takes the job over and completes it. When A finally
    comes back with a failure, the job must stay done, not be queued for a third run."""
    entered, release = threading.Event(), threading.Event()
    runs: list[str] = []

    def slow(deps: Any, payload: dict[str, Any]) -> None:
        first = not runs
        runs.append("run")
        if first:
            entered.set()
            release.wait(WAIT)
            raise RuntimeError("A's late failure")

    monkeypatch.setitem(job_service.HANDLERS, "test.slow", slow)
    job_id = record_job(runtime, "test.slow", {}, dispatch=False)
    runner_a = threading.Thread(target=job_service.run_job, args=(runtime.deps, job_id))
    runner_a.start()
    try:
        assert entered.wait(WAIT)
        clock.advance(seconds=runtime.deps.limits.job_lease.total_seconds() + 1)
        assert job_service.run_job(runtime.deps, job_id) is None  # B
        assert job_row(runtime, job_id)["status"] == JobStatus.DONE.value
    finally:
        release.set()
        runner_a.join(WAIT)
    assert not runner_a.is_alive()
    assert job_row(runtime, job_id)["status"] == JobStatus.DONE.value
    clock.advance(hours=2)
    runtime.jobs.sweep()
    runtime.jobs.drain()
    assert runs == ["run", "run"]


# --- Redis ------------------------------------------------------------------------------------


def _queued(rt: Runtime) -> int:
    count: int = rt.jobs.huey.pending_count()
    return count


def test_redis_carries_the_jobs(
    runtime: Runtime, redis_runtime: Runtime, receiver: Receiver
) -> None:
    assert type(redis_runtime.jobs.huey).__name__ == "RedisHuey"
    assert type(runtime.jobs.huey).__name__ == "SqliteHuey"
    api = make_api(redis_runtime)
    clients.set_webhook(redis_runtime.deps, api.client_id, receiver.url, SECRET)
    _cancelled_draft(api)
    assert _queued(redis_runtime) == 1
    assert queue_keys(redis_runtime), "nothing was written to Redis"
    assert _queued(runtime) == 0  # the SQLite queue in the data dir saw nothing
    assert receiver.snapshot() == []
    assert redis_runtime.jobs.drain() == 1
    (hit,) = receiver.snapshot()
    assert_signed(hit, SECRET)
    assert _queued(redis_runtime) == 0
    assert deliveries(api)[0]["Status"] == "delivered"


def test_jobs_lost_by_redis_are_found_by_the_sweep(
    redis_runtime: Runtime, receiver: Receiver
) -> None:
    api = make_api(redis_runtime)
    clients.set_webhook(redis_runtime.deps, api.client_id, receiver.url, SECRET)
    _cancelled_draft(api)
    drop_queue(redis_runtime)  # Redis restarted without persistence
    assert redis_runtime.jobs.drain() == 0
    redis_runtime.jobs.sweep()
    assert redis_runtime.jobs.drain() == 1
    assert len(receiver.snapshot()) == 1


def test_redis_retries_are_scheduled_in_redis(
    redis_runtime: Runtime, receiver: Receiver, clock: FakeClock
) -> None:
    receiver.default = 500
    api = make_api(redis_runtime)
    clients.set_webhook(redis_runtime.deps, api.client_id, receiver.url, SECRET)
    _cancelled_draft(api)
    redis_runtime.jobs.drain()
    assert redis_runtime.jobs.huey.scheduled_count() == 1  # the retry waits in Redis
    receiver.default = 200
    (entry,) = deliveries(api)
    clock.advance(seconds=60)
    redis_runtime.jobs.sweep()
    redis_runtime.jobs.drain()
    (entry,) = deliveries(api)
    assert [a["StatusCode"] for a in entry["Attempts"]] == [500, 200]


# --- a real worker process ---------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite-queue", "redis-queue"])
def test_an_esign_worker_delivers_without_drain(
    request: pytest.FixtureRequest,
    runtime: Runtime,
    receiver: Receiver,
    tmp_path: Path,
    backend: str,
) -> None:
    rt = runtime
    extra: dict[str, str] = {}
    if backend == "redis-queue":
        rt = request.getfixturevalue("redis_runtime")
        extra["ESIGN_REDIS_URL"] = rt.settings.redis_url or ""
    api = make_api(rt)
    # A token in the query: it must reach the receiver and stay out of the worker's log.
    clients.set_webhook(rt.deps, api.client_id, receiver.url + "?token=QUERYSECRET", SECRET)
    log = tmp_path / "worker.log"
    worker = start_esign(["worker", "--threads", "2"], process_env(rt, **extra), log)
    try:
        sid = _cancelled_draft(api)
        (hit,) = receiver.wait_for(1)
        assert hit.data["Data"]["SigningSessionId"] == sid
        assert_signed(hit, SECRET)
        wait_until(
            lambda: deliveries(api)[0]["Status"] == "delivered", what="the delivery log to say so"
        )
        assert worker.poll() is None, log.read_text()
    finally:
        code = stop(worker)
    assert code in (0, 130), log.read_text()
    assert len(receiver.snapshot()) == 1
    assert "QUERYSECRET" not in log.read_text()
    assert _queued(rt) == 0
