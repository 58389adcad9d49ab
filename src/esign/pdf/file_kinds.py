"""What a file's first bytes say it is, for refusals that name what was sent instead."""

from __future__ import annotations

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"

_MAGICS = (
    (b"%PDF-", "a PDF"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (ZIP_MAGIC, "a zip archive"),
    (OLE_MAGIC, "an older Office file"),
    (b"{\\rtf", "an RTF document"),
)


def not_a(expected: str, data: bytes) -> str:
    """'the file is a PNG image, not a Word document (.docx)' when the content is recognised;
    `expected` comes with its article."""
    head = data.lstrip()[:16]
    for magic, name in _MAGICS:
        if head.startswith(magic):
            return f"the file is {name}, not {expected}"
    return f"the file is not {expected}"
