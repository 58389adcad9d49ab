"""Collecting blobs nobody refers to (decision 0019). A blob stored or found by a `put`
within the grace is spared, because the reference to it may not be committed yet. A job looks
at it again once the grace has passed."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from esign.app import Runtime
from esign.services import blob_gc, jobs
from esign.services.events import COLLECT_BLOBS_JOB
from esign.storage import tables as t
from tests.api.session_helpers import S, b64, blob_path, cancelled, load, new_session
from tests.conftest import Api, FakeClock, make_api


@pytest.fixture
def graced(runtime: Runtime) -> Runtime:
    """The test runtime with the production grace (the suite's runtime collects at once)."""
    limits = replace(runtime.deps.limits, blob_grace=timedelta(minutes=10))
    return replace(runtime, deps=replace(runtime.deps, limits=limits))


@pytest.fixture
def graced_api(graced: Runtime) -> Api:
    return make_api(graced)


def _age(rt: Runtime, key: str, seconds: float = 3600) -> None:
    then = time.time() - seconds
    os.utime(blob_path(rt, key), (then, then))


def _collect_jobs(rt: Runtime) -> list[tuple[str, list[str]]]:
    with rt.engine.connect() as conn:
        rows = conn.execute(
            select(t.jobs.c.id, t.jobs.c.payload).where(t.jobs.c.name == COLLECT_BLOBS_JOB)
        ).all()
    return [(row.id, list(row.payload["keys"])) for row in rows]


def _purge(api: Api, sid: str) -> None:
    answer = api.put(f"{S}/{sid}/purge?returnURL=x&purgeNow=true")
    assert answer["Message"] == "Success" and answer["ReturnValue"] == "True", answer


def test_an_old_blob_goes_at_once(graced: Runtime, graced_api: Api) -> None:
    sid = cancelled(graced_api)
    (key,) = [d.blob_key for d in load(graced, graced_api, sid).documents]
    assert key
    _age(graced, key)
    _purge(graced_api, sid)
    assert not blob_path(graced, key).exists()
    # The purge's own record of the deletion (decision 0045) stays; it finds nothing to do.
    ((job_id, keys),) = _collect_jobs(graced)
    assert keys == [key]
    jobs.run_job(graced.deps, job_id)
    assert not blob_path(graced, key).exists()


def test_a_recent_blob_waits_for_a_job(graced: Runtime, graced_api: Api, clock: FakeClock) -> None:
    sid = cancelled(graced_api)
    (key,) = [d.blob_key for d in load(graced, graced_api, sid).documents]
    assert key
    _purge(graced_api, sid)  # seconds after the upload
    assert blob_path(graced, key).exists()
    ((job_id, keys),) = _collect_jobs(graced)
    assert keys == [key]
    _age(graced, key)
    clock.advance(minutes=11)
    jobs.run_job(graced.deps, job_id)
    assert not blob_path(graced, key).exists()


def test_bytes_found_by_another_upload_are_kept_for_it(
    graced: Runtime, graced_api: Api, clock: FakeClock
) -> None:
    """Session B uploads the bytes session A held, and finds them already stored, while A's
    purge looks for references: B has not committed yet, so none is found."""
    first = cancelled(graced_api)
    (key,) = [d.blob_key for d in load(graced, graced_api, first).documents]
    assert key
    _age(graced, key)  # stored long ago
    data = graced.deps.blobs.get(key)
    assert graced.deps.blobs.put(data) == key  # B's upload finds it stored...
    _purge(graced_api, first)  # ...A's purge finds no other reference...
    assert blob_path(graced, key).exists()  # ...and spares it
    # B commits its reference.
    second = new_session(graced_api, documents=[{"FileName": "b.pdf", "FileBytes": b64(data)}])
    assert [d.blob_key for d in load(graced, graced_api, second).documents] == [key]
    ((job_id, _),) = _collect_jobs(graced)
    _age(graced, key)
    clock.advance(minutes=11)
    jobs.run_job(graced.deps, job_id)
    assert blob_path(graced, key).exists()  # B holds it
    assert graced.deps.blobs.get(key) == data


def test_blobs_a_crash_set_aside_are_put_back_or_collected(api: Api, runtime: Runtime) -> None:
    """A crash between the collector's move and its unlink: the daily recovery puts the blob
    back, and collects it only if nothing refers to it."""
    sid = new_session(api)
    (held,) = [d.blob_key for d in load(runtime, api, sid).documents]
    assert held
    loose = runtime.deps.blobs.put(b"%PDF-1.7 nobody holds this")
    for n, key in enumerate((held, loose)):
        path = blob_path(runtime, key)
        path.rename(path.with_name(f".gone-1-2-{n}"))
    unfinished = blob_path(runtime, held).with_name(".tmp-1-2-9")
    unfinished.write_bytes(b"half a file")
    now = replace(runtime.deps, limits=replace(runtime.deps.limits, blob_leftover_age=timedelta()))
    assert blob_gc.recover_leftovers(now) == sorted([held, loose])
    assert blob_path(runtime, held).exists() and not blob_path(runtime, loose).exists()
    assert not unfinished.exists()
    assert [p.name for p in blob_path(runtime, held).parent.iterdir()] == [held]
    got = api.http.get(
        f"{S}/{sid}/documents/{load(runtime, api, sid).documents[0].id}/file", headers=api.headers
    )
    assert got.status_code == 200 and got.content.startswith(b"%PDF")


def test_the_recovery_runs_daily(runtime: Runtime) -> None:
    def due_at(hour: int, minute: int) -> set[str]:
        return {
            task.name
            for task in runtime.jobs.huey.read_periodic(datetime(2026, 11, 28, hour, minute))
        }

    assert due_at(3, 17) == {"esign.sweep", "esign.blob_leftovers"}
    assert due_at(3, 18) == {"esign.sweep"}
