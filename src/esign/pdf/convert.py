"""Office files and images to PDF.

`OfficeConverter` keeps one LibreOffice warm per worker process (≈0.1 s a conversion instead of
≈0.7 s for a cold `soffice --convert-to`). The processes, all in one process group so that a
hung converter dies whole with one `killpg`:

    [unshare --net]  /usr/bin/python3 -I bridge.py          our child; leads the group
                       └─ soffice → oosplash → soffice.bin     LibreOffice, listening on a pipe

The bridge runs on Debian's Python because python3-uno is built for it, not for esign's venv.
It talks to soffice over a user-only Unix socket (no TCP port), and to us over its stdin/stdout,
one JSON object per line. Each converter has its own LibreOffice profile (two soffice sharing
one fail silently), in a slot under the work dir claimed with `flock`, so profiles are reused
across restarts but never shared between processes.

Hostile input: the file is checked and cleaned first (`sanitize.check_office_file`: zip bombs,
macros, external links); LibreOffice loads it with macros never executed and links never
updated (and a profile that says so too), without network when `unshare` allows, and under a
timeout after which the whole group is SIGKILLed (oosplash ignores SIGTERM), restarted, and
the conversion retried once.

Images are not LibreOffice's business: `to_pdf` hands them to `images.images_to_pdf`.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lxml import etree

from esign.domain.ports import FileRefused
from esign.pdf.images import IMAGE_EXTENSIONS, images_to_pdf, normalise_extension
from esign.pdf.office_bridge import bridge_source as _bridge_source
from esign.pdf.office_files import check_office_file

log = logging.getLogger(__name__)

OFFICE_EXTENSIONS = frozenset({".docx", ".doc", ".rtf", ".odt", ".xlsx", ".xls", ".txt"})
SYSTEM_PYTHON = "/usr/bin/python3"
OFFICE_PACKAGES = (
    "libreoffice-writer-nogui libreoffice-calc-nogui python3-uno "
    "fonts-crosextra-carlito fonts-crosextra-caladea fonts-liberation2"
)
MISSING_OFFICE = (
    "the server cannot convert Word, Excel, RTF, ODT or text files because LibreOffice is not "
    "installed; the server's operator can install it with scripts/install-office.sh "
    f"(Debian packages {OFFICE_PACKAGES})"
)

# An explicit import filter per extension: LibreOffice must read the file as what its name and
# magic say, never detect it as something else (an HTML file named .doc would fetch images).
_IMPORT_FILTERS = {
    ".docx": ("MS Word 2007 XML", ""),
    ".doc": ("MS Word 97", ""),
    ".rtf": ("Rich Text Format", ""),
    ".odt": ("writer8", ""),
    ".xlsx": ("Calc MS Excel 2007 XML", ""),
    ".xls": ("MS Excel 97", ""),
    ".txt": ("Text (encoded)", "UTF8"),  # check_office_file hands text over as UTF-8
}

# Profile settings written before every start (LibreOffice keeps other keys it adds itself):
# no macros whatever a document asks, and never update links (Writer 0 = never; Calc 1 = never).
_PROFILE_SETTINGS = (
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Office.Writer/Content/Update", "Link", "0"),
    ("/org.openoffice.Office.Calc/Content/Update", "Link", "1"),
)
_PAPER_LOCALES = {"letter": "en_US.UTF-8", "a4": "C.UTF-8"}  # glibc always has C.UTF-8
_OOR = "http://openoffice.org/2001/registry"
_START_ATTEMPTS = 3
_MAX_SLOTS = 64


def office_available(soffice: str | None = None, python: str = SYSTEM_PYTHON) -> bool:
    """Whether LibreOffice and python3-uno are installed (cached after the first answer)."""
    binary = soffice or find_soffice()
    return binary is not None and _runs(binary) and _has_uno(python)


def find_soffice() -> str | None:
    found = shutil.which("soffice")
    if found:
        return found
    fallback = "/usr/lib/libreoffice/program/soffice"
    return fallback if _runs(fallback) else None


def _runs(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


@functools.cache
def _has_uno(python: str) -> bool:
    if not _runs(python):
        return False
    try:
        done = subprocess.run(
            [python, "-I", "-c", "import uno"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


class _Crashed(Exception):
    """The converter died, hung, or lost soffice: kill it, restart, retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Slot:
    """A work directory this process holds with `flock` for as long as the converter lives."""

    root: Path
    lock: IO[str]

    @property
    def profile(self) -> Path:
        return self.root / "profile"

    @property
    def jobs(self) -> Path:
        return self.root / "jobs"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def log(self) -> Path:
        return self.root / "office.log"

    @property
    def pipe(self) -> str:
        # The socket appears as /tmp/OSL_PIPE_<uid>_<name> (mode 0755: only we may connect).
        digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:24]
        return f"esign-office-{digest}"

    def release(self) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(self.lock, fcntl.LOCK_UN)
        self.lock.close()


@dataclass
class _Office:
    """A running bridge + soffice; `process` is the bridge, leader of the process group."""

    process: subprocess.Popen[bytes]
    slot: _Slot
    buffer: bytearray = field(default_factory=bytearray)
    conversions: int = 0

    def send(self, message: dict[str, Any]) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(message).encode() + b"\n")
            stdin.flush()
        except (BrokenPipeError, OSError):
            raise _Crashed("the document converter stopped") from None

    def receive(self, timeout: float) -> dict[str, Any]:
        """The bridge's next message; _Crashed when it takes longer than `timeout` or dies."""
        stdout = self.process.stdout
        assert stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Crashed(f"the conversion took longer than {timeout:g} seconds")
            ready, _, _ = select.select([stdout], [], [], remaining)
            if ready:
                chunk = os.read(stdout.fileno(), 65536)
                if not chunk:
                    raise _Crashed("the document converter stopped")
                self.buffer += chunk
        line, _, rest = bytes(self.buffer).partition(b"\n")
        self.buffer = bytearray(rest)
        try:
            message = json.loads(line)
        except ValueError:
            raise _Crashed("the document converter answered nonsense") from None
        if not isinstance(message, dict):
            raise _Crashed("the document converter answered nonsense")
        return message

    def kill(self) -> None:
        """SIGKILL the whole group: bridge, soffice script, oosplash and soffice.bin."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        # SIGKILL is not instant: a dying soffice.bin still holds the profile's single-instance
        # pipe, and a new soffice would hand its work to it and exit. Wait until none is left.
        _wait_for_group_exit(self.process.pid, timeout=10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        _remove_pipe_files(self.slot.pipe)


# Converters alive in this process, so a forked child forgets (never kills) its parent's soffice.
_converters: weakref.WeakSet[OfficeConverter] = weakref.WeakSet()


class OfficeConverter:
    """Converts office files to PDF with one warm LibreOffice, started on first use.

    Thread-safe (conversions are serialised: one soffice converts one file at a time) and
    fork-aware (a child process starts its own soffice in its own slot). Call `close()` (or use
    it as a context manager) to stop soffice; a process that exits without closing leaves the
    bridge a closed stdin, and it stops soffice itself.

    `timeout` bounds one conversion (seconds); `start_timeout` LibreOffice's start. `paper`
    ("letter" or "a4") is the page size of files that do not set one (text, spreadsheets).
    """

    def __init__(
        self,
        work_dir: str | os.PathLike[str],
        *,
        soffice: str | None = None,
        python: str = SYSTEM_PYTHON,
        timeout: float = 60.0,
        start_timeout: float = 60.0,
        max_conversions: int = 200,
        isolate_network: bool = True,
        paper: str = "letter",
    ) -> None:
        if paper not in _PAPER_LOCALES:
            raise ValueError(f"paper must be one of {sorted(_PAPER_LOCALES)}")
        self.timeout = timeout
        self._paper = paper
        self._work_dir = Path(work_dir).absolute()
        self._soffice = soffice or find_soffice()
        self._python = python
        self._start_timeout = start_timeout
        self._max_conversions = max_conversions  # restart now and then: soffice's memory grows
        self._isolate_network = isolate_network
        self._lock = threading.Lock()
        self._office: _Office | None = None
        self._slot: _Slot | None = None
        _converters.add(self)

    def __enter__(self) -> OfficeConverter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def available(self) -> bool:
        return office_available(self._soffice, self._python)

    @property
    def pid(self) -> int | None:
        """The process group of the running converter (for tests and diagnostics)."""
        return self._office.process.pid if self._office else None

    def to_pdf(self, data: bytes, extension: str) -> bytes:
        """The document as PDF bytes; FileRefused with a reason when it cannot be converted."""
        ext = normalise_extension(extension)
        if ext in IMAGE_EXTENSIONS:
            return images_to_pdf(data, ext)
        if ext not in OFFICE_EXTENSIONS:
            raise FileRefused(f"files of type {ext} are not accepted")
        clean = check_office_file(data, ext)
        if not self.available():
            raise FileRefused(MISSING_OFFICE)
        with self._lock:
            return self._convert_with_retry(clean, ext)

    def close(self) -> None:
        """Stop soffice (gracefully, then SIGKILL for what is left) and free the slot."""
        with self._lock:
            self._stop()
            if self._slot is not None:
                self._slot.release()
                self._slot = None

    # -- conversion

    def _convert_with_retry(self, data: bytes, ext: str) -> bytes:
        try:
            return self._convert(data, ext)
        except _Crashed as first:
            log.warning("office converter failed (%s); restarting it and retrying", first.reason)
            self._kill()
        try:
            return self._convert(data, ext)
        except _Crashed as second:
            log.warning("office converter failed again (%s)", second.reason)
            self._kill()
            raise FileRefused(f"the document could not be converted: {second.reason}") from None

    def _convert(self, data: bytes, ext: str) -> bytes:
        office = self._running()
        job = office.slot.jobs / uuid.uuid4().hex
        source, target = job.with_suffix(ext), job.with_suffix(".pdf")
        source.write_bytes(data)
        filter_name, options = _IMPORT_FILTERS[ext]
        request = {
            "in": source.as_uri(),
            "out": target.as_uri(),
            "filter": filter_name,
            "options": options,
        }
        try:
            office.send(request)
            reply = office.receive(self.timeout)
            if reply.get("crashed"):
                raise _Crashed(str(reply.get("error", "LibreOffice stopped")))
            if not reply.get("ok"):
                log.info("LibreOffice refused a %s file: %s", ext, reply.get("error"))
                raise FileRefused(
                    "the document could not be converted: LibreOffice could not read it "
                    "(it may be damaged or password-protected)"
                )
            pdf = target.read_bytes() if target.exists() else b""
        finally:
            source.unlink(missing_ok=True)
            target.unlink(missing_ok=True)
        office.conversions += 1
        if office.conversions >= self._max_conversions:
            self._stop()
        if not pdf.startswith(b"%PDF-"):
            raise FileRefused("the document could not be converted: LibreOffice wrote no PDF")
        return pdf

    # -- process management

    def _running(self) -> _Office:
        if self._office is not None and self._office.process.poll() is None:
            return self._office
        if self._office is not None:
            self._kill()
        for attempt in range(1, _START_ATTEMPTS + 1):
            try:
                self._office = self._start()
                return self._office
            except _Crashed as failed:
                if attempt == _START_ATTEMPTS:
                    raise FileRefused(
                        f"the document converter could not start on the server ({failed.reason})"
                    ) from None
                # A profile left half-written by a SIGKILL can stop soffice from starting, and
                # a start under heavy load can miss its deadline: new profile, short pause.
                log.warning("LibreOffice did not start (%s); retrying with a new profile", failed)
                if self._slot is not None:
                    shutil.rmtree(self._slot.profile, ignore_errors=True)
                time.sleep(0.5 * attempt)
        raise AssertionError("unreachable")

    def _start(self) -> _Office:
        if self._soffice is None:
            raise FileRefused(MISSING_OFFICE)
        slot = self._claim_slot()
        for folder in (slot.root, slot.profile / "user", slot.jobs, slot.tmp):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for stale in slot.jobs.iterdir():  # left by a killed conversion
            stale.unlink(missing_ok=True)
        _write_profile_settings(slot.profile / "user" / "registrymodifications.xcu")
        _remove_pipe_files(slot.pipe)
        config = {
            "command": [
                self._soffice,
                "--headless",
                "--invisible",
                "--nologo",
                "--norestore",
                "--nodefault",
                "--nolockcheck",
                f"-env:UserInstallation={slot.profile.as_uri()}",
                f"--accept=pipe,name={slot.pipe};urp;StarOffice.ComponentContext",
            ],
            "url": f"uno:pipe,name={slot.pipe};urp;StarOffice.ComponentContext",
            "start_timeout": self._start_timeout,
        }
        prefix = _network_isolation() if self._isolate_network else []
        bridge = slot.root / "bridge.py"
        bridge.write_text(_bridge_source())
        command = [*prefix, self._python, "-I", str(bridge), json.dumps(config)]
        with slot.log.open("wb") as log_file:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                env=_office_environment(slot, self._paper),
                cwd=slot.root,
                start_new_session=True,  # its own process group, for killpg
            )
        office = _Office(process, slot)
        try:
            hello = office.receive(self._start_timeout + 5)
        except _Crashed:
            office.kill()
            raise _Crashed(f"no answer from LibreOffice; see {slot.log}") from None
        if not hello.get("ok"):
            office.kill()
            raise _Crashed(f"{hello.get('error', 'LibreOffice failed')}; see {slot.log}")
        log.info("LibreOffice started (pid %s, profile %s)", process.pid, slot.profile)
        return office

    def _claim_slot(self) -> _Slot:
        if self._slot is not None:
            return self._slot
        self._work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for index in range(_MAX_SLOTS):
            root = self._work_dir / f"office-{index}"
            lock = (self._work_dir / f"office-{index}.lock").open("a")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                continue
            self._slot = _Slot(root, lock)
            return self._slot
        raise FileRefused(f"the document converter has no free slot in {self._work_dir}")

    def _stop(self) -> None:
        """Ask soffice to quit (it saves its profile cleanly), then kill whatever remains."""
        office, self._office = self._office, None
        if office is None:
            return
        with contextlib.suppress(_Crashed):
            office.send({"quit": True})
        with contextlib.suppress(subprocess.TimeoutExpired):
            office.process.wait(timeout=15)
        office.kill()

    def _kill(self) -> None:
        office, self._office = self._office, None
        if office is not None:
            office.kill()

    def _forget_after_fork(self) -> None:
        # The parent owns that soffice and that slot's lock: drop our references, close nothing
        # that would affect the parent (closing our copy of the lock fd keeps its flock).
        self._lock = threading.Lock()
        if self._office is not None:
            for stream in (self._office.process.stdin, self._office.process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        self._office = None
        if self._slot is not None:
            self._slot.lock.close()
            self._slot = None


def _after_fork_in_child() -> None:
    for converter in list(_converters):
        converter._forget_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _office_environment(slot: _Slot, paper: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["TMPDIR"] = str(slot.tmp)
    # The paper of files that do not set their own (text, most spreadsheets) follows LC_PAPER;
    # pin it instead of inheriting the host's locale. Measured: en_US.UTF-8 gives Letter whether
    # or not glibc has that locale, C.UTF-8 gives A4. LC_ALL would override it: it becomes LANG.
    if env.get("LC_ALL"):
        env["LANG"] = env.pop("LC_ALL")
    env["LC_PAPER"] = _PAPER_LOCALES[paper]
    env["SAL_USE_VCLPLUGIN"] = "svp"  # headless rendering; no X or Wayland
    return env


@functools.cache
def _network_isolation() -> list[str]:
    """`unshare` prefix giving the converter an empty network namespace, when allowed here.

    Root can unshare the network directly; others need a user namespace (mapped to root
    inside, so the bridge and soffice agree on the pipe's name). Without it the converter
    still never fetches anything (links are stripped and never updated); this is a second wall.
    """
    if shutil.which("unshare") is None:
        return []
    prefix = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--net", "--map-root-user"]
    try:
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if probe.returncode != 0:
        log.info("unshare is not permitted here; LibreOffice keeps the network namespace")
        return []
    return prefix


def _wait_for_group_exit(group: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _group_members(group) and time.monotonic() < deadline:
        time.sleep(0.02)


def _group_members(group: int) -> list[int]:
    """Live processes of a process group. Zombies do not count: an init that never reaps
    (some containers) would keep them forever, and they hold nothing."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[0] != "Z" and fields[2] == str(group):
            members.append(int(stat.parent.name))
    return members


def _remove_pipe_files(name: str) -> None:
    # osl names its socket after the uid it sees: ours, or 0 inside a user namespace.
    for uid in {os.getuid(), 0}:
        with contextlib.suppress(OSError):
            Path(f"/tmp/OSL_PIPE_{uid}_{name}").unlink()


def _write_profile_settings(path: Path) -> None:
    """Merge _PROFILE_SETTINGS into the profile's registrymodifications.xcu."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
    root: etree._Element | None = None
    if path.exists():
        with contextlib.suppress(etree.XMLSyntaxError, OSError):
            root = etree.parse(str(path), parser).getroot()
    if root is None:
        root = etree.fromstring(
            f'<oor:items xmlns:oor="{_OOR}" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'.encode()
        )
    ours = {(node, name) for node, name, _ in _PROFILE_SETTINGS}
    for item in list(root):
        prop = item.find("prop")
        key = (item.get(f"{{{_OOR}}}path"), prop.get(f"{{{_OOR}}}name") if prop is not None else "")
        if key in ours:
            root.remove(item)
    for node, name, value in _PROFILE_SETTINGS:
        item = etree.SubElement(root, "item", {f"{{{_OOR}}}path": node})
        prop = etree.SubElement(item, "prop", {f"{{{_OOR}}}name": name, f"{{{_OOR}}}op": "fuse"})
        etree.SubElement(prop, "value").text = value
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
