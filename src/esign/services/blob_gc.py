"""Deleting blobs nobody holds any more: after a purge, or when a template goes."""

from __future__ import annotations

from collections.abc import Iterable

from esign.services.context import Deps


def delete_unused(deps: Deps, keys: Iterable[str]) -> None:
    """Delete each blob no session or template still refers to, and the page images
    rendered from it. Runs after the commit that let go of them."""
    with deps.uow(write=False) as uow:
        unused = [k for k in sorted(set(keys)) if not uow.sessions.blob_in_use(k)]
    if not unused:
        return
    with deps.uow() as uow:
        images = uow.page_images.forget(unused)
        uow.commit()
    with deps.uow(write=False) as uow:
        # An image's bytes could equal an uploaded file's: content addressing shares them.
        doomed = [k for k in {*unused, *images} if not uow.sessions.blob_in_use(k)]
    for key in doomed:
        deps.blobs.delete(key)
