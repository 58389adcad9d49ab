"""Page geometry shared by the PDF adapters: pages as displayed (CropBox ∩ MediaBox, turned
by /Rotate), which is what field coordinates on the wire are relative to; and the 2-D
matrices of PDF's user space."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pikepdf

from esign.domain.model import PageSize
from esign.domain.ports import FileRefused

Matrix = tuple[float, float, float, float, float, float]
Box = tuple[float, float, float, float]  # left, bottom, right, top
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class Displayed:
    """The visible box in user space and the page's clockwise rotation."""

    left: float
    bottom: float
    right: float
    top: float
    rotation: int

    @classmethod
    def of(cls, media: Iterable[Any], crop: Iterable[Any], rotation: int) -> Displayed:
        """From the page's boxes (any corner order) and its /Rotate."""
        return cls.of_ordered(_ordered(media), _ordered(crop), rotation)

    @classmethod
    def of_ordered(cls, media_box: Box, crop_box: Box, rotation: int) -> Displayed:
        """From boxes already as (left, bottom, right, top)."""
        left, bottom = max(media_box[0], crop_box[0]), max(media_box[1], crop_box[1])
        right, top = min(media_box[2], crop_box[2]), min(media_box[3], crop_box[3])
        if right <= left or top <= bottom:  # a crop box outside the media box: show the media
            left, bottom, right, top = media_box
        # /Rotate must be a multiple of 90; a file that says otherwise gets the nearest one.
        return cls(left, bottom, right, top, round(int(rotation) / 90) * 90 % 360)

    @property
    def width(self) -> float:
        span = self.right - self.left
        return self.top - self.bottom if self.rotation in (90, 270) else span

    @property
    def height(self) -> float:
        span = self.top - self.bottom
        return self.right - self.left if self.rotation in (90, 270) else span

    @property
    def size(self) -> PageSize:
        return PageSize(self.width, self.height)

    def to_display(self, ux: float, uy: float) -> tuple[float, float]:
        """User space → displayed page points, origin top-left, y down."""
        px, py = ux - self.left, uy - self.bottom
        w, h = self.right - self.left, self.top - self.bottom
        if self.rotation == 90:
            return py, px
        if self.rotation == 180:
            return w - px, py
        if self.rotation == 270:
            return h - py, w - px
        return px, h - py

    def to_user(self) -> Matrix:
        """The matrix from displayed coordinates (origin bottom-left of the page as seen,
        y up) to user space: drawn through it, text stands upright on the displayed page."""
        w, h = self.right - self.left, self.top - self.bottom
        x0, y0 = self.left, self.bottom
        return {
            0: (1.0, 0.0, 0.0, 1.0, x0, y0),
            90: (0.0, 1.0, -1.0, 0.0, x0 + w, y0),
            180: (-1.0, 0.0, 0.0, -1.0, x0 + w, y0 + h),
            270: (0.0, -1.0, 1.0, 0.0, x0, y0 + h),
        }[self.rotation]


def displayed(page: pikepdf.Page) -> Displayed:
    return Displayed.of_ordered(_box(page.mediabox), _box(page.cropbox), int(page.rotation))


def _box(array: pikepdf.Array) -> Box:
    """A page box in order, read by qpdf (a fifth of the time of four float() calls); a
    TypeError unless it is an array of four numbers."""
    rect = pikepdf.Rectangle(array)
    return rect.llx, rect.lly, rect.urx, rect.ury


def page_sizes(pdf: pikepdf.Pdf) -> tuple[PageSize, ...]:
    return tuple(displayed(page).size for page in pdf.pages)


# Smaller than any paper (a business card is 144 by 252 points): a page a field cannot be on.
MIN_PAGE_SIDE = 1.0


def check_page_areas(sizes: tuple[PageSize, ...]) -> None:
    """Fields and anchors are placed as fractions of the page: a page without width or
    height has none to place them in."""
    for number, size in enumerate(sizes, start=1):
        if size.width < MIN_PAGE_SIDE or size.height < MIN_PAGE_SIDE:
            raise FileRefused(
                f"page {number} has no area ({size.width:g} by {size.height:g} points)"
            )


def _ordered(box: Iterable[Any]) -> Box:
    x0, y0, x1, y1 = (float(v) for v in box)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


# --------------------------------------------------------------------------- matrices


def multiply(m: Matrix, n: Matrix) -> Matrix:
    """m × n for PDF's row-vector matrices (apply m, then n)."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (
        a * p + b * r,
        a * q + b * s,
        c * p + d * r,
        c * q + d * s,
        e * p + f * r + t,
        e * q + f * s + u,
    )


def translate(m: Matrix, tx: float) -> Matrix:
    """m after moving tx along its x axis (text space advance)."""
    a, b, c, d, e, f = m
    return (a, b, c, d, tx * a + e, tx * b + f)


def matrix(value: Any) -> Matrix:
    """A PDF array of six numbers as a Matrix; anything else is the identity."""
    try:
        if value is not None and len(value) == 6:
            a, b, c, d, e, f = (float(v) for v in value)
            return (a, b, c, d, e, f)
    except (TypeError, ValueError):
        pass
    return IDENTITY
