"""Image files (PNG, JPEG, TIFF) to PDF: one page per image frame, with pikepdf and Pillow;
no LibreOffice. Decoding is bounded (pixels per frame and per file) against decompression
bombs, and a damaged or mislabelled image is refused with the reason."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
import zlib
from collections.abc import Iterator

import pikepdf
from PIL import Image, ImageOps

from esign.domain.ports import FileRefused

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})


def normalise_extension(extension: str) -> str:
    ext = extension.strip().lower()
    if "." in ext:
        ext = ext[ext.rindex(".") :]  # a file name works too
    return ext if ext.startswith(".") else "." + ext


_IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}
MAX_IMAGE_PIXELS = 100_000_000  # per frame: a 600-dpi Letter scan is ≈34 Mpx
MAX_TOTAL_PIXELS = 2_500_000_000  # per file: 500 Letter pages at 200 dpi are ≈1.9 Gpx
_LETTER = (612.0, 792.0)
_MAX_PAGE_SIDE = 14_400.0  # PDF's 200-inch page limit


def images_to_pdf(data: bytes, extension: str, *, max_pages: int = 500) -> bytes:
    """One page per image frame (multi-page TIFF: one per frame), aspect ratio kept.

    The page is the image's size at its DPI; an image without a plausible DPI is fitted into a
    Letter page (turned to landscape for a wide image). JPEG data is embedded as it is.
    """
    ext = normalise_extension(extension)
    image = _open_image(data, _expected_format(ext), ext)
    with _refusing_damage():
        pdf = _image_pages(image, data, max_pages)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def check_image(data: bytes, extension: str, *, max_pages: int = 500) -> None:
    """Refuse what `images_to_pdf` would refuse for the file's type, frame count and sizes,
    reading headers only; a PNG's chunks are also checked against their CRCs."""
    ext = normalise_extension(extension)
    image = _open_image(data, _expected_format(ext), ext)
    with _refusing_damage():
        for _ in _frames(image, max_pages):
            pass
        if image.format == "PNG":
            Image.open(io.BytesIO(data)).verify()


def _expected_format(ext: str) -> str:
    expected = _IMAGE_FORMATS.get(ext)
    if expected is None:
        raise FileRefused(f"files of type {ext} are not accepted")
    return expected


@contextlib.contextmanager
def _refusing_damage() -> Iterator[None]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's complaints about odd metadata
            yield
    except FileRefused:
        raise
    except Image.DecompressionBombError:
        raise FileRefused("the image is too large") from None
    except Exception as exc:
        # Pillow raises what its decoders meet (OSError, SyntaxError, TypeError, KeyError, …)
        # on a hostile file; none of them is our bug.
        log.info("image refused: %r", exc)
        raise FileRefused("the image is damaged") from None


def _frames(image: Image.Image, max_pages: int) -> Iterator[Image.Image]:
    """Each frame in turn (the image itself, moved to it), once its size is checked."""
    # A camera's MPO is a JPEG followed by more JPEGs (other views): its first image is the photo.
    frames = 1 if image.format == "MPO" else int(getattr(image, "n_frames", 1))
    if frames > max_pages:
        raise FileRefused(f"the image has {frames} pages; the limit is {max_pages}")
    budget = MAX_TOTAL_PIXELS
    for index in range(frames):
        image.seek(index)
        budget -= _check_frame_size(image, budget)
        yield image


def _image_pages(image: Image.Image, data: bytes, max_pages: int) -> pikepdf.Pdf:
    passthrough = data if image.format == "JPEG" else None
    pdf = pikepdf.new()
    for frame in _frames(image, max_pages):
        _add_image_page(pdf, frame, passthrough)
    return pdf


def _open_image(data: bytes, expected: str, ext: str) -> Image.Image:
    if not data:
        raise FileRefused("the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we check sizes
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise FileRefused("the image is too large") from None
    except Exception:  # UnidentifiedImageError, or whatever a decoder meets in a hostile header
        raise FileRefused(f"the file is not a {expected} image ({ext})") from None
    found = "JPEG" if image.format == "MPO" else image.format
    if found != expected:
        raise FileRefused(f"the file is a {image.format} image, not a {expected} image ({ext})")
    return image


def _check_frame_size(frame: Image.Image, budget: int) -> int:
    """The frame's pixel count, if neither the frame nor the whole file is too large to decode."""
    pixels = frame.width * frame.height
    if pixels > MAX_IMAGE_PIXELS or pixels > budget or min(frame.size) < 1:
        raise FileRefused(f"the image is too large ({frame.width} × {frame.height} pixels)")
    return pixels


def _add_image_page(pdf: pikepdf.Pdf, frame: Image.Image, jpeg: bytes | None) -> None:
    orientation = frame.getexif().get(0x0112, 1)  # EXIF Orientation: phones rotate this way
    upright = ImageOps.exif_transpose(frame) if orientation != 1 else frame
    xobject = _image_xobject(pdf, upright, jpeg if orientation == 1 else None)
    page_w, page_h, box = _page_geometry(upright)
    x, y, w, h = box
    content = f"q {w:.4f} 0 0 {h:.4f} {x:.4f} {y:.4f} cm /Im0 Do Q".encode()
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=pikepdf.Array([0, 0, round(page_w, 4), round(page_h, 4)]),
        Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=xobject)),
        Contents=pikepdf.Stream(pdf, content),
    )
    pdf.pages.append(pikepdf.Page(page))


def _page_geometry(image: Image.Image) -> tuple[float, float, tuple[float, float, float, float]]:
    """(page width, page height, (x, y, width, height) of the image on it) in points."""
    width, height = image.size
    dpi = image.info.get("dpi")
    if isinstance(dpi, tuple) and len(dpi) == 2:
        dx, dy = (float(round(float(v))) for v in dpi)  # PNG stores pixels per metre: 149.99
        if 36 <= dx <= 4800 and 36 <= dy <= 4800:  # 72 dpi and up is real; (1, 1) is not
            w, h = width * 72 / dx, height * 72 / dy
            if w <= _MAX_PAGE_SIDE and h <= _MAX_PAGE_SIDE:
                return w, h, (0.0, 0.0, w, h)
    page_w, page_h = _LETTER if height >= width else (_LETTER[1], _LETTER[0])
    scale = min(page_w / width, page_h / height)
    w, h = width * scale, height * scale
    return page_w, page_h, ((page_w - w) / 2, (page_h - h) / 2, w, h)


def _image_xobject(pdf: pikepdf.Pdf, image: Image.Image, jpeg: bytes | None) -> pikepdf.Stream:
    if jpeg is not None and image.mode in ("L", "RGB"):
        # Pass the JPEG through: no quality loss, no decoding cost.
        return _xobject(pdf, jpeg, image, pikepdf.Name.DCTDecode, image.mode, 8)
    flat = _flatten(image)
    if image.format == "JPEG" or jpeg is not None:
        buffer = io.BytesIO()
        flat.save(buffer, "JPEG", quality=90)  # a rotated photo: JPEG again, not a huge Flate
        return _xobject(pdf, buffer.getvalue(), flat, pikepdf.Name.DCTDecode, flat.mode, 8)
    bits = 1 if flat.mode == "1" else 8
    packed = zlib.compress(flat.tobytes(), 6)
    return _xobject(pdf, packed, flat, pikepdf.Name.FlateDecode, flat.mode, bits)


def _xobject(
    pdf: pikepdf.Pdf, data: bytes, image: Image.Image, codec: pikepdf.Name, mode: str, bits: int
) -> pikepdf.Stream:
    return pikepdf.Stream(
        pdf,
        data,
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=image.width,
        Height=image.height,
        ColorSpace=pikepdf.Name.DeviceRGB if mode == "RGB" else pikepdf.Name.DeviceGray,
        BitsPerComponent=bits,
        Filter=codec,
    )


def _flatten(image: Image.Image) -> Image.Image:
    """The frame as "1", "L" or "RGB": transparency composited on white, deep grey scaled."""
    if image.mode in ("1", "L", "RGB"):
        return image
    if image.mode.startswith("I") or image.mode == "F":
        # 16- or 32-bit grey (scanners, microscopes): scale 0..65535 to 0..255.
        return image.convert("I").point(lambda v: v / 256).convert("L")
    if "A" in image.getbands() or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, "white")
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")  # palette, CMYK, YCbCr, LAB
