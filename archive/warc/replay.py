"""Replay a WARC directory in pywb, kept in its own virtualenv.

pywb pins old redis and werkzeug releases, so it never goes into the project's environment. On
first use `ensure_pywb` creates a venv (default ~/.cache/govarchive/pywb-venv, or
$GOVARCHIVE_PYWB_VENV) and pip-installs pywb there. `prepare_collection` makes a pywb collection
(`wb-manager init`) in a working directory whose archive/ holds symlinks to our WARCs (no copies of
gigabyte files), then indexes it (`wb-manager reindex`). `serve` runs `wayback` on it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from archive.warc.reader import iter_warc_files

COLLECTION = "govarchive"
# pywb 2.10 installs cleanly on Python 3.11; setuptools<81 keeps pkg_resources for older pywb releases.
PYWB_REQUIREMENTS = ["pywb>=2.8", "setuptools<81"]
INSTALL_TIMEOUT = 900  # seconds; gevent and cryptography wheels are large


class PywbUnavailable(RuntimeError):
    """pywb could not be set up in its isolated environment."""


def pywb_venv_dir() -> Path:
    override = os.environ.get("GOVARCHIVE_PYWB_VENV")
    return Path(override) if override else Path.home() / ".cache" / "govarchive" / "pywb-venv"


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def pywb_installed(venv: Path | None = None) -> bool:
    venv = venv or pywb_venv_dir()
    return _bin(venv, "wayback").exists() and _bin(venv, "wb-manager").exists()


def ensure_pywb(venv: Path | None = None, log: Callable[[str], None] = print) -> Path:
    """The venv holding pywb, created and installed on first use."""
    venv = venv or pywb_venv_dir()
    if pywb_installed(venv):
        return venv
    log(f"setting up pywb in {venv} (first use; this takes a minute)")
    try:
        if not _bin(venv, "python").exists():
            venv.parent.mkdir(parents=True, exist_ok=True)
            _run([_base_python(), "-m", "venv", str(venv)], timeout=300)
        _run(
            [str(_bin(venv, "python")), "-m", "pip", "install", "--quiet", *PYWB_REQUIREMENTS],
            timeout=INSTALL_TIMEOUT,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise PywbUnavailable(f"could not install pywb into {venv}: {exc}") from exc
    if not pywb_installed(venv):
        raise PywbUnavailable(f"pywb installed into {venv} but its commands are missing")
    return venv


def prepare_collection(
    warc_dir: Path | str,
    workdir: Path | str,
    *,
    venv: Path | None = None,
    collection: str = COLLECTION,
    copy: bool = False,
) -> Path:
    """A pywb collection in `workdir` listing every WARC of `warc_dir`; returns the collection dir.

    By default the collection's archive/ holds symlinks and is re-indexed (`wb-manager reindex`);
    with `copy=True` new files are copied in with `wb-manager add`, pywb's own way.
    """
    venv = ensure_pywb(venv)
    manager = str(_bin(venv, "wb-manager"))
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    coll_dir = workdir / "collections" / collection
    if not coll_dir.exists():
        _run([manager, "init", collection], cwd=workdir)
    archive = coll_dir / "archive"
    archive.mkdir(parents=True, exist_ok=True)
    wanted = {p.name: p.resolve() for p in iter_warc_files([warc_dir])}
    if not wanted:
        raise FileNotFoundError(f"no WARC files under {warc_dir}")
    new = [target for name, target in wanted.items() if not (archive / name).exists()]
    if copy:
        if new:
            _run([manager, "add", collection, *map(str, new)], cwd=workdir)
        return coll_dir
    for entry in archive.iterdir():
        if entry.is_symlink() and entry.name not in wanted:
            entry.unlink()  # a WARC that was removed or renamed
    for target in new:
        (archive / target.name).symlink_to(target)
    _run([manager, "reindex", collection], cwd=workdir)
    return coll_dir


def serve(
    workdir: Path | str, port: int, *, venv: Path | None = None, bind: str = "127.0.0.1"
) -> subprocess.Popen:
    """Start `wayback` on a prepared working directory; the caller stops the process."""
    venv = venv or pywb_venv_dir()
    return subprocess.Popen(
        [str(_bin(venv, "wayback")), "-p", str(port), "-b", bind],
        cwd=str(Path(workdir).resolve()),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_until_up(
    port: int, *, bind: str = "127.0.0.1", timeout: float = 60.0, process: subprocess.Popen | None = None
) -> None:
    """Wait until pywb answers; PywbUnavailable if `process` (the server) exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise PywbUnavailable(f"pywb exited with code {process.returncode} before answering on port {port}")
        try:
            with urllib.request.urlopen(f"http://{bind}:{port}/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"pywb did not answer on port {port} within {timeout:.0f}s")


def replay_url(
    port: int,
    url: str,
    timestamp: str = "",
    mode: str = "",
    *,
    bind: str = "127.0.0.1",
    collection: str = COLLECTION,
) -> str:
    """`mode="id_"` returns the archived bytes unchanged."""
    return f"http://{bind}:{port}/{collection}/{timestamp}{mode}/{url}"


def _base_python() -> str:
    """The interpreter for the new venv: the project's own Python (a venv of a venv is fine)."""
    return sys.executable


def _run(cmd: list[str], cwd: Path | None = None, timeout: float = 600) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise subprocess.SubprocessError(f"{' '.join(cmd)} failed: {(proc.stderr or proc.stdout)[-2000:]}")
