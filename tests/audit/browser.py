"""A real headless browser for the report's tests: Debian's ``chromium`` (``make chromium``).

:func:`require_chromium` skips a test where chromium is missing, except under CI (``CI`` set),
where a missing browser fails the test: there the Makefile's test target installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

TIMEOUT_S = 120
_IMG = re.compile(r"<img\b[^>]*>")
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')


def require_chromium() -> str:
    """The path of ``chromium``; skip the test without it (fail it under CI)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "chromium is not installed (`make chromium` installs Debian's)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _run(browser: str, *args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="emofeat-chromium-") as profile:
        done = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--force-device-scale-factor=1",
                f"--user-data-dir={profile}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def dump_dom(browser: str, page: Path, width: int, height: int) -> str:
    """The page's DOM after load (its scripts run), as HTML."""
    return _run(
        browser, f"--window-size={width},{height}", "--virtual-time-budget=10000", "--dump-dom", page.as_uri()
    )


def screenshot(browser: str, page: Path, out: Path, width: int, height: int) -> Path:
    """A PNG of the page's first ``width`` x ``height`` CSS pixels (one pixel each)."""
    _run(
        browser,
        f"--window-size={width},{height}",
        "--virtual-time-budget=10000",
        f"--screenshot={out}",
        page.as_uri(),
    )
    assert out.is_file(), f"chromium wrote no screenshot to {out}"
    return out


def images(dom: str) -> list[dict[str, str]]:
    """The attributes of each ``<img>`` of a DOM dump."""
    return [dict(_ATTR.findall(tag)) for tag in _IMG.findall(dom)]
