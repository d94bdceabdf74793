"""Progress bars for long jobs (load, write-back, stored explanations), shown only to a person.

Why one helper: a bar drawn into a log file or a pipe is hundreds of carriage-return lines, and
a bar drawn while log lines are printed leaves half-bars between them. So bars go to stderr and
only when stderr is a terminal (tqdm's ``disable=None``), and ``kgrec`` routes log lines
through tqdm while a command runs (:func:`kgrec.cli.main`), which prints them above the bar.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm


def progress_bar(iterable: Iterable[Any] | None = None, *, desc: str, total: int | None = None,
                 unit: str = "rows", enabled: bool = True) -> tqdm:
    """A tqdm bar on stderr; ``enabled=False`` (or stderr not a terminal) shows nothing."""
    return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                dynamic_ncols=True, disable=None if enabled else True)
