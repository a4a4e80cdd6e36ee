"""Running the real `govarchive` command from tests, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Default settings, minus the politeness delays that only slow a local fixture site down.
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
        "-s", "RETRY_BACKOFF_MAX=0.2"]


def govarchive(*args: str, cwd: Path, timeout: float = 180, **popen: object) -> subprocess.CompletedProcess:
    """The installed console script (or `python -m crawler`, the same entry point)."""
    script = Path(sys.executable).with_name("govarchive")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "crawler"]
    env = {**os.environ, "GOVARCHIVE_DB": "", "COLUMNS": "200"}
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env,
                          **popen)


def sqlite_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'govarchive.db'}"
