"""The upload check of files converted later (the `UploadChecker` port): what the converter
would refuse from the bytes alone is refused when the file arrives, with the same reason.
Nothing is kept from it: the file is cleaned and converted again in the processing job."""

from __future__ import annotations

from esign.pdf.images import IMAGE_EXTENSIONS, check_image, normalise_extension
from esign.pdf.office_files import check_office_file


class UploadFileChecker:
    def __init__(self, max_pages: int = 500) -> None:
        self._max_pages = max_pages

    def check(self, data: bytes, extension: str) -> None:
        ext = normalise_extension(extension)
        if ext in IMAGE_EXTENSIONS:
            check_image(data, ext, max_pages=self._max_pages)
        else:
            check_office_file(data, ext)
