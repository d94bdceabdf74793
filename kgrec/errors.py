"""The one base class of every error that is the user's to fix.

Why one base: the ``kgrec`` command prints any :class:`KgrecError` as a single line
(``kgrec: error: ...``, exit code 2) and a traceback only with ``--verbose``, so an error class
added anywhere in the package gets that treatment by subclassing this, with no list to keep in
step. The message itself must say what went wrong and what to do. Each subclass keeps its
older built-in base too (``ValueError``, ``LookupError``, ...), so existing ``except`` clauses
still catch it.
"""

from __future__ import annotations


class KgrecError(Exception):
    """An error the user can act on; its message says what happened and what to do."""
