"""Document-pipeline benchmarks of issue 3, as same-run ratios. Run:

    .venv/bin/python bench/documents.py

Phases (one function each, called from `main()`; more are added beside them):

* `bench_anchor_scan`: `esign.pdf.anchors.scan_and_strip` (find every anchor tag with PDFium,
  then remove its text with pikepdf and save) on a 200-page packet against a bare pypdfium2
  text extraction of the same bytes (open, then `get_text_range()` on every page). Target:
  ≤ 1.5× the bare time. The packet is made here with reportlab: A4 pages of 45 lines of
  10 pt Helvetica (a dense contract page), 4 tags per page (sig, d, ini, txt) inside lines.
  One untimed warm-up of each, then BENCH_RUNS (default 7) rounds that time both back to back
  (so both see the same machine load); medians are reported. For reference it also times
  the same packet with the tags' delimiters left out: finding costs that much, removing the
  rest (parsing, rewriting and saving every page's content stream).

Environment: BENCH_RUNS, BENCH_PAGES (default 200), BENCH_PHASES (comma-separated phase names,
default all: `anchor,memory`; e.g. `BENCH_PHASES=anchor` skips the slow memory phase).
Printed per phase: wall-clock and CPU-time
medians (CPU time is steadier when other work shares the machine), the ratios, PASS/FAIL of
the wall ratio against the target, and the process's peak RSS so far. Exit status 0 when every
phase ran (whatever the numbers), 1 when a phase produced wrong results.
"""

from __future__ import annotations

import io
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import pypdfium2 as pdfium
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from esign.pdf.anchors import scan_and_strip
from esign.pdf.pdfium_lock import PDFIUM_LOCK

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
PAGES = int(os.environ.get("BENCH_PAGES", "200"))
ANCHOR_TARGET = 1.5

LINES_PER_PAGE = 45
TAG_LINES = {
    6: "sig_req_Seller 1_175",
    17: "d_req_Seller 1",
    28: "ini_opt_Buyer 1",
    39: "txt_req_Buyer 1_150_10",
}
FILLER = "The Seller shall deliver the goods to the Buyer in good order and condition, clause"


@dataclass(frozen=True)
class Outcome:
    name: str
    ok: bool


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True)
class Timing:
    wall: float  # ms, median
    cpu: float  # ms of this process's CPU time, median: steadier when the box is shared


def medians(fns: list[Callable[[], object]], runs: int) -> list[Timing]:
    """One untimed warm-up each, then `runs` rounds timing each in turn."""
    for fn in fns:
        fn()
    walls: list[list[float]] = [[] for _ in fns]
    cpus: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, wall, cpu in zip(fns, walls, cpus, strict=True):
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            cpu.append((time.process_time() - start_cpu) * 1000)
            wall.append((time.perf_counter() - start) * 1000)
    return [
        Timing(statistics.median(w), statistics.median(c)) for w, c in zip(walls, cpus, strict=True)
    ]


# --------------------------------------------------------------------------- anchor scan


def build_packet(pages: int, tags: bool = True) -> bytes:
    """Dense A4 pages; with `tags`, 4 of each page's 45 lines carry one anchor tag."""
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4)
    for page in range(pages):
        canvas.setFont("Helvetica", 10)
        for line in range(LINES_PER_PAGE):
            tag = TAG_LINES.get(line)
            text = f"{page + 1}.{line} {FILLER}"
            if tag is not None:
                inline = f"<{tag}>" if tags else tag  # same text, delimiters or not
                text = f"{page + 1}.{line} Signed for the party: {inline} on the line above."
            canvas.drawString(56, 800 - 16 * line, text)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def bare_extraction(pdf: bytes) -> int:
    """What any text extraction pays: open, then every page's text."""
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(pdf)
        try:
            total = 0
            for index in range(len(doc)):
                page = doc[index]
                textpage = page.get_textpage()
                total += len(textpage.get_text_range())
                textpage.close()
                page.close()
            return total
        finally:
            doc.close()


def bench_anchor_scan() -> Outcome:
    pdf, plain = build_packet(PAGES), build_packet(PAGES, tags=False)
    result = scan_and_strip(pdf)
    expected = PAGES * len(TAG_LINES)
    ok = len(result.tags) == expected and not (result.unremoved or result.malformed)
    ok = ok and not scan_and_strip(plain).tags
    bare, scan, find = medians(
        [lambda: bare_extraction(pdf), lambda: scan_and_strip(pdf), lambda: scan_and_strip(plain)],
        RUNS,
    )
    ratio, cpu_ratio = scan.wall / bare.wall, scan.cpu / bare.cpu
    verdict = "PASS" if ratio <= ANCHOR_TARGET else "FAIL"
    print(f"anchor scan + removal, {PAGES} pages, {expected} tags, {len(pdf) / 1e6:.2f} MB:")
    print("                                      wall ms   ms/page    CPU ms")
    for label, t in [("bare pypdfium2 text extraction", bare), ("scan_and_strip", scan)]:
        print(f"  {label:32}{t.wall:9.1f}{t.wall / PAGES:10.2f}{t.cpu:10.1f}")
    print(f"  ratio {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU (target <= {ANCHOR_TARGET}x) {verdict}")
    print(
        f"  for reference, the same packet without delimiters (nothing to remove):"
        f" {find.wall / bare.wall:.2f}x wall, {find.cpu / bare.cpu:.2f}x CPU"
    )
    print(f"  tags found {len(result.tags)}/{expected}, unremoved {len(result.unremoved)}")
    print(f"  peak RSS {peak_rss_mb():.0f} MB; medians of {RUNS} runs")
    return Outcome("anchor scan", ok)


# --------------------------------------------------------------------------- peak memory

MEMORY_PAGES = int(os.environ.get("BENCH_MEMORY_PAGES", "500"))
MEMORY_TARGET_MB = 400.0

_CHILD = """
import resource, sys, io
data = open(sys.argv[1], "rb").read()
if sys.argv[2] == "pipeline":
    from esign.domain.ports import PrepareRequest
    from esign.pdf.convert import OfficeConverter
    from esign.pdf.pipeline import PdfPipeline
    out = PdfPipeline(OfficeConverter(sys.argv[3])).prepare(
        PrepareRequest(data, ".pdf", has_anchor_tags=True))
    assert out.page_count > 0
else:
    import pikepdf
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.save(io.BytesIO())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def build_heavy_packet(pages: int, path: str) -> int:
    """About 200 KB a page: a photo-like (noise) JPEG and one anchor tag, 500 pages ≈ 100 MB."""
    import random

    from PIL import Image
    from reportlab.lib.utils import ImageReader

    rng = random.Random(7)
    canvas = Canvas(path, pagesize=A4)
    for number in range(pages):
        noise = bytes(rng.getrandbits(8) for _ in range(370 * 370 * 3))
        image = Image.frombytes("RGB", (370, 370), noise)
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=95)
        canvas.drawImage(ImageReader(io.BytesIO(buf.getvalue())), 72, 300, 450, 450)
        canvas.setFont("Helvetica", 10)
        canvas.drawString(72, 200, f"Page {number + 1}: sign here <sig_req_Seller 1_175>")
        canvas.showPage()
    canvas.save()
    return os.path.getsize(path)


def _child_peak_mb(path: str, what: str, work: str) -> float:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _CHILD, path, what, work],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    return float(done.stdout.strip().splitlines()[-1])


def bench_peak_memory() -> Outcome:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "packet.pdf")
        size = build_heavy_packet(MEMORY_PAGES, path)
        bare = _child_peak_mb(path, "bare", tmp)
        ours = _child_peak_mb(path, "pipeline", tmp)
    print(f"\npeak memory: {MEMORY_PAGES}-page packet of {size / 1e6:.1f} MB")
    print(f"  bare pikepdf open + save   {bare:8.1f} MB peak RSS")
    print(f"  pipeline (sanitize + tags) {ours:8.1f} MB peak RSS  ({ours / bare:.2f}x bare)")
    verdict = "PASS" if ours < MEMORY_TARGET_MB else "FAIL"
    print(f"  {verdict}  peak RSS under {MEMORY_TARGET_MB:.0f} MB: {ours:.0f} MB")
    return Outcome("peak memory", True)


# --------------------------------------------------------------------------- main


def main() -> int:
    phases = {"anchor": bench_anchor_scan, "memory": bench_peak_memory}
    chosen = os.environ.get("BENCH_PHASES", ",".join(phases)).split(",")
    unknown = [name for name in chosen if name.strip() not in phases]
    if unknown:
        print(f"unknown phases {unknown}; known: {', '.join(phases)}", file=sys.stderr)
        return 1
    outcomes = [phases[name.strip()]() for name in chosen]
    broken = [o.name for o in outcomes if not o.ok]
    if broken:
        print(f"wrong results in: {', '.join(broken)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
