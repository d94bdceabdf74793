"""The suite's guard against threads left behind (``conftest._no_thread_left_behind``).

A test that leaves a non-daemon thread running must fail, and pytest must still exit: before
the guard, such a thread kept the interpreter alive for an hour after the summary.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

LEAVES_A_THREAD = '''
import threading

import conftest

conftest.THREAD_GRACE_S = 0.5


def test_leaves_a_thread_waiting_forever():
    threading.Thread(target=threading.Event().wait, name="left-behind").start()


def test_joins_its_daemon_thread():
    done = threading.Event()
    thread = threading.Thread(target=done.set, daemon=True)
    thread.start()
    thread.join(10)
    assert done.is_set()
'''


def test_a_thread_left_running_fails_the_run_and_the_run_still_ends(tmp_path: Path):
    shutil.copy(Path(__file__).parent / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_inner.py").write_text(LEAVES_A_THREAD)
    # The bound only turns a hang (the bug this guards against) into a failure of this test.
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 passed, 1 error" in done.stdout, done.stdout
    assert "the test left non-daemon threads running: left-behind" in done.stdout
    assert "non-daemon threads still running: left-behind; exiting anyway" in done.stderr
