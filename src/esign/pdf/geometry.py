"""Page geometry shared by the PDF adapters: pages as displayed (CropBox ∩ MediaBox, turned
by /Rotate), which is what field coordinates on the wire are relative to."""

from __future__ import annotations

from dataclasses import dataclass

import pikepdf

from esign.domain.model import PageSize

Matrix = tuple[float, float, float, float, float, float]


@dataclass(frozen=True, slots=True)
class Displayed:
    """The visible box in user space and the page's clockwise rotation."""

    left: float
    bottom: float
    right: float
    top: float
    rotation: int

    @property
    def size(self) -> PageSize:
        w, h = self.right - self.left, self.top - self.bottom
        return PageSize(h, w) if self.rotation in (90, 270) else PageSize(w, h)

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
    media = _ordered(page.mediabox)
    crop = _ordered(page.cropbox)
    left, bottom = max(media[0], crop[0]), max(media[1], crop[1])
    right, top = min(media[2], crop[2]), min(media[3], crop[3])
    if right <= left or top <= bottom:  # a crop box outside the media box: show the media
        left, bottom, right, top = media
    # /Rotate must be a multiple of 90; a file that says otherwise gets the nearest one.
    return Displayed(left, bottom, right, top, round(int(page.rotation) / 90) * 90 % 360)


def page_sizes(pdf: pikepdf.Pdf) -> tuple[PageSize, ...]:
    return tuple(displayed(page).size for page in pdf.pages)


def _ordered(box: pikepdf.Array) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in box)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
