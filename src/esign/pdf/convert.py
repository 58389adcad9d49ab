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

`images_to_pdf` makes one page per image frame with pikepdf and Pillow; no LibreOffice.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import inspect
import io
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import textwrap
import threading
import time
import uuid
import warnings
import weakref
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pikepdf
from lxml import etree
from PIL import Image, ImageOps

from esign.domain.ports import FileRefused
from esign.pdf.sanitize import check_office_file

log = logging.getLogger(__name__)

OFFICE_EXTENSIONS = frozenset({".docx", ".doc", ".rtf", ".odt", ".xlsx", ".xls", ".txt"})
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
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


def normalise_extension(extension: str) -> str:
    ext = extension.strip().lower()
    if "." in ext:
        ext = ext[ext.rindex(".") :]  # a file name works too
    return ext if ext.startswith(".") else "." + ext


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


@functools.cache
def _bridge_source() -> str:
    source = textwrap.dedent(inspect.getsource(_bridge_main))
    # Lazy annotations: the bridge's own names (Any) do not exist in the bridge process.
    return f"from __future__ import annotations\n{source}\nimport sys\n_bridge_main(sys.argv[1:])\n"


def _bridge_main(argv: list[str]) -> None:  # pragma: no cover - runs in the bridge process
    """The bridge: runs on Debian's Python with python3-uno, from this function's source alone.

    argv[0] is JSON: the soffice command, the UNO URL of its pipe, the start timeout. It starts
    soffice (in our process group), connects, says {"ok": true}, then converts one request per
    stdin line ({"in", "out", "filter", "options"} → {"ok"} or {"ok": false, "error"}; "crashed"
    when soffice itself is gone). On EOF or {"quit": true} it closes soffice and exits.
    """
    import contextlib
    import ctypes
    import json
    import os
    import subprocess
    import sys
    import time

    import uno  # type: ignore[import-not-found]
    from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
    from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]

    config = json.loads(argv[0])
    # Become the reaper of soffice.bin's orphans (it leaves gpgconf zombies behind), so they
    # are collected here rather than left to an init that may never reap them.
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER

    def send(**message: object) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    def prop(name: str, value: object) -> Any:
        item = PropertyValue()
        item.Name = name
        item.Value = value
        return item

    soffice = subprocess.Popen(config["command"], stdin=subprocess.DEVNULL, stdout=sys.stderr)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + float(config["start_timeout"])
    while True:
        try:
            context = resolver.resolve(config["url"])
            break
        except NoConnectException:
            if soffice.poll() is not None:
                send(ok=False, error=f"soffice exited with status {soffice.returncode}")
                return
            if time.monotonic() > deadline:
                send(ok=False, error="soffice did not open its pipe in time")
                return
            time.sleep(0.05)
    manager = context.ServiceManager
    desktop = manager.createInstanceWithContext("com.sun.star.frame.Desktop", context)

    def convert(request: dict[str, str]) -> None:
        load = [
            prop("Hidden", True),
            prop("ReadOnly", True),
            prop("MacroExecutionMode", 0),  # com.sun.star.document.MacroExecMode.NEVER_EXECUTE
            prop("UpdateDocMode", 0),  # com.sun.star.document.UpdateDocMode.NO_UPDATE
            prop("FilterName", request["filter"]),
        ]
        if request["options"]:
            load.append(prop("FilterOptions", request["options"]))
        document = desktop.loadComponentFromURL(request["in"], "_blank", 0, tuple(load))
        if document is None:
            raise RuntimeError("LibreOffice could not load the document")
        try:
            calc = document.supportsService("com.sun.star.sheet.SpreadsheetDocument")
            # Form fields would become PDF form fields under ours: print them flat instead.
            data = (prop("ExportFormFields", False), prop("ExportNotes", False))
            store = (
                prop("FilterName", "calc_pdf_Export" if calc else "writer_pdf_Export"),
                prop("FilterData", uno.Any("[]com.sun.star.beans.PropertyValue", data)),
            )
            uno.invoke(
                document,
                "storeToURL",
                (request["out"], uno.Any("[]com.sun.star.beans.PropertyValue", store)),
            )
        finally:
            try:
                document.close(True)
            except Exception:
                document.dispose()

    send(ok=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("quit"):
            break
        try:
            convert(request)
            send(ok=True)
        except Exception as exc:
            lost = soffice.poll() is not None or "Disposed" in type(exc).__name__
            send(ok=False, crashed=lost, error=getattr(exc, "Message", "") or repr(exc))
            if lost:
                return
    with contextlib.suppress(Exception):
        desktop.terminate()
        soffice.wait(timeout=10)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                time.sleep(0.05)
        except ChildProcessError:
            break


# ---------------------------------------------------------------------------------------------
# Images

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
    expected = _IMAGE_FORMATS.get(ext)
    if expected is None:
        raise FileRefused(f"files of type {ext} are not accepted")
    image = _open_image(data, expected, ext)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's complaints about odd metadata
            pdf = _image_pages(image, data, max_pages)
    except FileRefused:
        raise
    except Image.DecompressionBombError:
        raise FileRefused("the image is too large") from None
    except Exception as exc:
        # Pillow raises what its decoders meet (OSError, SyntaxError, TypeError, KeyError, …)
        # on a hostile file; none of them is our bug.
        log.info("image refused: %r", exc)
        raise FileRefused("the image is damaged") from None
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _image_pages(image: Image.Image, data: bytes, max_pages: int) -> pikepdf.Pdf:
    # A camera's MPO is a JPEG followed by more JPEGs (other views): its first image is the photo.
    frames = 1 if image.format == "MPO" else int(getattr(image, "n_frames", 1))
    if frames > max_pages:
        raise FileRefused(f"the image has {frames} pages; the limit is {max_pages}")
    passthrough = data if image.format == "JPEG" else None
    pdf = pikepdf.new()
    budget = MAX_TOTAL_PIXELS
    for index in range(frames):
        image.seek(index)
        budget -= _check_frame_size(image, budget)
        _add_image_page(pdf, image, passthrough)
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
