"""Bad input: the one exception readers raise, and the rejected rows they set aside.

Every complaint about input names the file, the line a person sees in an editor (1-based, the
header is line 1; Parquet files and DataFrames have no lines, so there it is the 1-based row)
and the field, so that the fix is one look away. With ``on_error="skip"`` the same facts go to a
rejects CSV instead, one row per rejected input row, and the rest of the input loads.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kgrec.errors import KgrecError

#: ``field`` of complaints about a whole row (too many fields) rather than one value.
WHOLE_ROW = "(row)"


class InputError(KgrecError, ValueError):
    """Input that kgrec refuses to load; says where (file, line, field) and what to do.

    Attributes:
        file: path of the input file, or ``<users DataFrame>`` for in-memory tables.
        line: 1-based line in the file (header = 1), or 1-based row for Parquet/DataFrames.
        field: the column at fault (``(row)`` for the row as a whole).
        reason: what is wrong and how to fix it.
        unit: ``"line"`` or ``"row"``, how ``line`` is counted.
    """

    def __init__(self, file: str, line: int, field: str, reason: str, *, unit: str = "line") -> None:
        self.file, self.line, self.field, self.reason, self.unit = file, int(line), field, reason, unit
        super().__init__(f"{file}, {unit} {self.line}, field {field!r}: {reason}")


@dataclass(frozen=True)
class Reject:
    """One input row left out of the load (``on_error="skip"``), with why."""

    file: str
    line: int
    field: str
    reason: str
    row: tuple[str, ...]
    table: str
    unit: str = "line"

    def error(self) -> InputError:
        """The error this row raises when bad rows are not skipped."""
        return InputError(self.file, self.line, self.field, self.reason, unit=self.unit)


REJECT_COLUMNS = ("file", "line", "table", "field", "reason", "row")


def write_rejects(path: str | Path, rejects: Iterable[Reject], *, delimiter: str = ",") -> int:
    """Write ``rejects`` as CSV (``file,line,table,field,reason,row``); returns how many.

    ``row`` holds the original row's values, joined as one CSV line, so that a person can fix it
    and append it to the source file again.
    """
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(REJECT_COLUMNS)
        for reject in rejects:
            writer.writerow((reject.file, reject.line, reject.table, reject.field, reject.reason,
                             delimiter.join(reject.row)))
            count += 1
    return count
