"""The progress bar on a real (pseudo-)terminal: `emofeat ingest --engine local` in a child
process whose stdin, stdout and stderr are a pty, read back byte for byte."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from tests.mediagen import corrupt, face_frames, write_video

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"


def run_in_pty(args: list[str], timeout: float = 240.0) -> tuple[int, str]:
    """Run ``args`` with a 120x30 pty as its terminal; its exit code and everything it wrote."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    child = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal (it exited)
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = child.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_ingest_on_a_terminal_shows_a_bar_and_ends_cleanly(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    for i in range(3):
        write_video(root / f"c{i}.mp4", face_frames(2, size=(96, 128), seed=i), fps=2)
    corrupt(root / "bad.mp4", "text")
    (root / "notes.txt").write_text("not media")
    cli = "from emofeat.cli.app import main; main()"
    args = [sys.executable, "-c", cli, "ingest", "folder", str(root), "--store", str(tmp_path / "s")]
    args += ["--engine", "local", "--batch-size", "1", "--checkpoint-every", "1", "--workers", "1"]
    code, raw = run_in_pty(args)
    text = ANSI.sub("", raw).replace("\r", "\n")
    assert code == 0, text
    assert "Traceback" not in text
    assert HIDE_CURSOR in raw  # a live display ran ...
    assert raw.rfind(SHOW_CURSOR) > raw.rfind(HIDE_CURSOR)  # ... and gave the cursor back
    bar = [line for line in text.splitlines() if line.startswith("ingesting clips")]
    assert bar, text
    final = bar[-1]
    assert "4/4" in final
    assert re.search(r"\d+\.\d+ clips/s", final), final
    assert "1 failed" in final
    assert "checkpoint 4/4" in final
    assert any(re.search(r"ETA \d+s", line) for line in bar), bar
    assert any("hashing sources" in line and "4/4" in line for line in text.splitlines())
    # the summary comes after the last frame of the bar, on lines of its own
    summary_at = raw.find("clips: ok 3, failed 1, skipped 0")
    assert summary_at > raw.rfind("clips/s")
    tail = [line for line in ANSI.sub("", raw[summary_at:]).splitlines() if line.strip()]
    assert tail[0].startswith("clips: ok 3, failed 1, skipped 0")
    assert tail[-1].strip() == "1  not a media file (unknown suffix): notes.txt"
