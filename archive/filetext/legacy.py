"""DOC and WPS (OLE2 compound files): read by Debian's `antiword` (Word 97–2003) or `catdoc` (which
also reads many WPS files) when installed; without either, or when both refuse the file, `not extractable`
(the file is kept; a later reprocess with the tools installed reads it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from archive.filetext.result import NOT_EXTRACTABLE, TOOL_TIMEOUT_SECONDS, FileText, TextCollector

# (tool, arguments before the file name): UTF-8 output, no page-layout wrapping.
TOOLS = (("antiword", ("-m", "UTF-8.txt", "-w", "0")), ("catdoc", ("-d", "utf-8", "-w")))


def read_doc(body: bytes) -> FileText:
    return _read(body, "doc")


def read_wps(body: bytes) -> FileText:
    return _read(body, "wps")


def _read(body: bytes, kind: str) -> FileText:
    tools = [(path, args, name) for name, args in TOOLS if (path := shutil.which(name))]
    if not tools:
        return FileText(NOT_EXTRACTABLE, kind=kind, detail="neither antiword nor catdoc is installed")
    refusals = []
    with tempfile.NamedTemporaryFile(suffix=f".{kind}", delete=False) as handle:
        handle.write(body)
    try:
        for path, args, name in tools:
            try:
                done = subprocess.run([path, *args, handle.name], capture_output=True, timeout=TOOL_TIMEOUT_SECONDS,
                                      stdin=subprocess.DEVNULL, check=False)
            except subprocess.TimeoutExpired:
                refusals.append(f"{name}: no answer in {TOOL_TIMEOUT_SECONDS:g} s")
                continue
            text = done.stdout.decode("utf-8", "replace")
            if done.returncode == 0 and text.strip():
                out = TextCollector()
                for line in text.splitlines():
                    out.add(line)
                return out.result(kind)
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            refusals.append(f"{name}: {message[0] if message else f'exit {done.returncode}'}")
    finally:
        os.unlink(handle.name)
    return FileText(NOT_EXTRACTABLE, kind=kind, detail="; ".join(refusals)[:500])
