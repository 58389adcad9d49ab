"""The one lock every PDFium call in this process goes through.

PDFium keeps global state and is not thread-safe, even across different documents
(pypdfium2's documentation, "Incompatibility with Threading"); request threads and job
threads share one process, so each use of pypdfium2 holds this lock from opening a document
to closing it. Re-entrant, so a helper that takes it may call another that does too.
"""

from __future__ import annotations

import threading

PDFIUM_LOCK = threading.RLock()
