"""Deleting blobs nobody holds any more: after a purge, or when a template goes."""

from __future__ import annotations

from collections.abc import Iterable

from esign.domain.ports import UnitOfWork
from esign.services.context import Deps, new_id
from esign.services.events import COLLECT_BLOBS_JOB, add_job


def delete_unused(deps: Deps, keys: Iterable[str], collected_later: bool = False) -> None:
    """Delete each blob no session or template still refers to, and the page images
    rendered from it. Runs after the commit that let go of them.

    A blob stored or reused within `limits.blob_grace` is spared, and looked at again by a
    job once that time has passed: a request that found the same bytes already stored may
    not have committed its reference yet (docs/decisions/0019). `collected_later`: the
    commit recorded such a job for `keys` already (`collect_later`); only page images
    spared get one more."""
    keys = set(keys)
    with deps.uow(write=False) as uow:
        unused = [k for k in sorted(keys) if not uow.sessions.blob_in_use(k)]
    if not unused:
        return
    with deps.uow() as uow:
        images = uow.page_images.forget(unused)
        uow.commit()
    with deps.uow(write=False) as uow:
        # An image's bytes could equal an uploaded file's: content addressing shares them.
        doomed = [k for k in sorted({*unused, *images}) if not uow.sessions.blob_in_use(k)]
    grace = deps.limits.blob_grace
    spared = [k for k in doomed if not deps.blobs.delete_unless_recent(k, grace.total_seconds())]
    if collected_later:
        spared = [k for k in spared if k not in keys]
    if spared:
        with deps.uow() as uow:
            collect_later(deps, uow, spared)
            uow.commit()


def collect_later(deps: Deps, uow: UnitOfWork, keys: Iterable[str]) -> None:
    """A job, in `uow`'s transaction, to delete these blobs once the grace has passed if
    nothing holds them then. A purge records one with the change that lets go of its files,
    so that a crash before `delete_unused` ran still deletes them."""
    wanted = sorted(set(keys))
    if wanted:
        run_at = deps.clock.now() + deps.limits.blob_grace
        add_job(uow, COLLECT_BLOBS_JOB, {"keys": wanted}, f"{COLLECT_BLOBS_JOB}:{new_id()}", run_at)


def recover_leftovers(deps: Deps) -> list[str]:
    """The daily clearing of what crashed processes left in the blob store. A blob found set
    aside is put back, then collected like any other if nothing refers to it (a crash in the
    middle of `delete_unless_recent` may have been one that must stay). Returns the keys put
    back."""
    restored = deps.blobs.recover_leftovers(deps.limits.blob_leftover_age.total_seconds())
    if restored:
        delete_unused(deps, restored)
    return restored
