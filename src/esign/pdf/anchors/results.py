"""What `scan_and_strip` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from esign.domain.anchors import AnchorTag


@dataclass(frozen=True, slots=True)
class UserBox:
    """A rectangle in raw PDF user space (the page's own coordinates)."""

    left: float
    bottom: float
    right: float
    top: float


@dataclass(frozen=True, slots=True)
class FoundTag:
    """A tag that parsed, and the field it stands for (see the module doc for geometry)."""

    page_index: int
    parsed: AnchorTag
    x: float
    y: float
    width: float
    height: float
    page_width: float
    page_height: float
    text: str
    text_box: UserBox


@dataclass(frozen=True, slots=True)
class FoundMalformed:
    page_index: int
    text: str
    reason: str
    text_box: UserBox


@dataclass(frozen=True, slots=True)
class Unremoved:
    """A tag (well-formed or not) whose text is still, wholly or partly, in the output."""

    page_index: int
    text: str
    reason: str


@dataclass(slots=True)
class AnchorScan:
    pdf: bytes | Path  # bytes for bytes in; for a file, the file or the rewritten `out`
    tags: list[FoundTag] = field(default_factory=list)
    malformed: list[FoundMalformed] = field(default_factory=list)
    unremoved: list[Unremoved] = field(default_factory=list)
    # the document or a page could not be read, or the result could not be written
    errors: list[str] = field(default_factory=list)
