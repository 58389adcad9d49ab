"""The program between esign and LibreOffice (see `convert`): it runs on Debian's Python, which
has python3-uno, from the source of `bridge_main` alone, so it may import only the standard
library and uno, inside the function."""

from __future__ import annotations

import functools
import inspect
import textwrap
from typing import Any


@functools.cache
def bridge_source() -> str:
    """The bridge program: `bridge_main`'s source and a line that calls it."""
    source = textwrap.dedent(inspect.getsource(bridge_main))
    # Lazy annotations: the bridge's own names (Any) do not exist in the bridge process.
    return f"from __future__ import annotations\n{source}\nimport sys\nbridge_main(sys.argv[1:])\n"


def bridge_main(argv: list[str]) -> None:  # pragma: no cover - runs in the bridge process
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
