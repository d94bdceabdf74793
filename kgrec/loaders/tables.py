"""Raw input tables: one file (or DataFrame) read as-is, with the human line of every row.

Reading is kept apart from validation so that every format (CSV, Parquet, DataFrames, the
MovieLens files) ends in the same :class:`Table` and is checked by the same code. CSV is read
with every value as a string (``na_filter=False``): ids such as ``007`` or ``NA`` survive, and an
empty field is ``""``, which validation reports by line.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from kgrec.loaders.columns import TABLES, ColumnMap, TableSpec, canonical_names
from kgrec.loaders.errors import WHOLE_ROW, InputError, Reject

_SKIPPED_LINE = re.compile(r"Skipping line (\d+): (.*)")
_PARSER_LINE = re.compile(r"line (\d+)")
_OPEN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")
_UNIT_SEPARATOR = b"\x1f"


@dataclass(frozen=True)
class Table:
    """One input table before validation.

    Attributes:
        name: which table of the graph it is (``users``, ``interactions``, ...).
        source: the file it came from, or ``<users DataFrame>``.
        frame: the rows, columns renamed to the canonical names of :mod:`kgrec.loaders.columns`.
        lines: the 1-based line (or row, see ``unit``) of each row of ``frame``.
        unit: ``"line"`` for text files, ``"row"`` for Parquet files and DataFrames.
        malformed: rows the parser could not split, already set aside (``on_error="skip"``).
        file_columns: canonical name -> the column's name in the input, for messages.
    """

    name: str
    source: str
    frame: pd.DataFrame
    lines: np.ndarray
    unit: str = "line"
    malformed: tuple[Reject, ...] = field(default=())
    file_columns: dict[str, str] = field(default_factory=dict)

    def error(self, position: int, column: str, reason: str) -> InputError:
        """The error for row ``position`` (0-based in ``frame``)."""
        return self.reject(position, column, reason).error()

    def reject(self, position: int, column: str, reason: str) -> Reject:
        """The rejects-file entry for row ``position`` (0-based in ``frame``)."""
        values = tuple("" if is_missing(v) else str(v) for v in self.frame.iloc[position].tolist())
        return Reject(self.source, int(self.lines[position]), self.file_columns.get(column, column), reason,
                      values, self.name, self.unit)

    def keep(self, mask: np.ndarray) -> "Table":
        """The table with only the rows where ``mask`` is true."""
        return replace(self, frame=self.frame.loc[mask].reset_index(drop=True), lines=self.lines[mask])


def read_csv_table(path: str | Path, name: str, *, spec: TableSpec | None = None,
                   columns: ColumnMap | None = None, sep: str = ",",
                   encoding: str = "utf-8", header: bool = True, names: list[str] | None = None,
                   quoting: int = csv.QUOTE_MINIMAL, on_error: str = "raise") -> Table:
    """Read one delimited text file as table ``name``.

    Args:
        path: the file.
        name: the table it holds (a key of :data:`kgrec.loaders.columns.TABLES`).
        spec: its columns, for a table a reader turns into graph tables itself (MovieLens tags);
            default ``TABLES[name]``.
        columns: column renames (see :mod:`kgrec.loaders.columns`).
        sep: the field separator; a longer one (MovieLens 1M's ``::``) is swapped for a
            control character first, so the fast C parser can still read the file.
        encoding: the file's text encoding; a wrong one is reported with the line and field.
        header: whether line 1 holds the column names; if not, ``names`` gives them.
        quoting: a :mod:`csv` quoting constant (``QUOTE_NONE`` for MovieLens' ``.dat`` files).
        on_error: ``"raise"`` stops at the first malformed row; ``"skip"`` sets it aside.

    Raises:
        InputError: malformed CSV, wrong encoding, or a missing required column.
    """
    source = str(path)
    _require_file(path, name)
    data: str | Path | io.BytesIO = path
    parse_sep = sep
    if len(sep) > 1:
        data, parse_sep = io.BytesIO(Path(path).read_bytes().replace(sep.encode(encoding), _UNIT_SEPARATOR)), "\x1f"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(data, sep=parse_sep, encoding=encoding, header=0 if header else None,
                                names=names, index_col=False, dtype=str, na_filter=False,
                                skip_blank_lines=False,
                                quoting=quoting, on_bad_lines="warn", engine="c")
        except UnicodeDecodeError as exc:
            raise _encoding_error(Path(path), sep, encoding, header, names, exc) from None
        except pd.errors.EmptyDataError:
            raise InputError(source, 1, WHOLE_ROW, f"the {name} file is empty; it needs at least a header "
                                                   "line with the column names") from None
        except pd.errors.ParserError as exc:
            raise _parser_error(source, str(exc)) from None
    skipped = [(int(m.group(1)), m.group(2).strip()) for w in caught
               for m in _SKIPPED_LINE.finditer(str(w.message))]
    first_record = 2 if header else 1
    lines, bad_lines = _physical_lines(frame, [record for record, _ in skipped], first_record)
    malformed = tuple(
        Reject(source, line, WHOLE_ROW, f"malformed row: {why}; quote fields that contain {sep!r}",
               (), name)
        for line, (_, why) in zip(bad_lines, skipped))
    if malformed and on_error == "raise":
        raise malformed[0].error()
    if malformed:
        malformed = _with_raw_text(Path(path), encoding, malformed)
    frame.columns = [str(c) for c in frame.columns]
    blank = (frame == "").all(axis=1).to_numpy()
    table = Table(name, source, frame, lines, "line", malformed)
    return _renamed(table.keep(~blank) if blank.any() else table, columns, spec)


def read_parquet_table(path: str | Path, name: str, *, columns: ColumnMap | None = None) -> Table:
    """Read one Parquet file as table ``name``; rows are counted from 1 in error messages."""
    _require_file(path, name)
    return frame_table(pd.read_parquet(path), name, source=str(path), columns=columns)


def _require_file(path: str | Path, name: str) -> None:
    """A missing or unreadable input is the user's to fix: say which file, not a traceback."""
    if not Path(path).is_file():
        raise InputError(str(path), 0, WHOLE_ROW, f"the {name} file does not exist (or is not a file)")


def frame_table(frame: pd.DataFrame, name: str, *, source: str | None = None,
                columns: ColumnMap | None = None) -> Table:
    """Wrap an in-memory DataFrame as table ``name`` (rows counted from 1 in error messages)."""
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    table = Table(name, source or f"<{name} DataFrame>", frame, np.arange(1, len(frame) + 1), "row")
    return _renamed(table, columns)


def _renamed(table: Table, columns: ColumnMap | None, spec: TableSpec | None = None) -> Table:
    renames = canonical_names(table.name, spec or TABLES[table.name], list(table.frame.columns),
                              table.source, columns, unit=table.unit)
    return replace(table, frame=table.frame.rename(columns=renames),
                   file_columns={name: src for src, name in renames.items()})


def is_missing(value: object) -> bool:
    """True for the ways a cell can be empty: None, NA, NaN (a list is never missing)."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _physical_lines(frame: pd.DataFrame, bad_records: list[int], first_record: int
                    ) -> tuple[np.ndarray, list[int]]:
    """Map parser records to the lines a person counts.

    The parser numbers records, not lines: a quoted field holding a newline makes the two
    differ. Each good row spans 1 + (newlines inside its fields) lines; a malformed row is
    assumed to span one.
    """
    total = len(frame) + len(bad_records)
    is_bad = np.zeros(total, dtype=bool)
    is_bad[[record - first_record for record in bad_records]] = True
    spans = np.ones(total, dtype=np.int64)
    text_columns = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    if any(frame[c].str.contains("\n", regex=False).any() for c in text_columns):
        spans[~is_bad] += sum(frame[c].str.count("\n").to_numpy(dtype=np.int64) for c in text_columns)
    starts = first_record + np.concatenate(([0], np.cumsum(spans)[:-1]))
    return starts[~is_bad], starts[is_bad].tolist()


def _with_raw_text(path: Path, encoding: str, rejects: tuple[Reject, ...]) -> tuple[Reject, ...]:
    """Attach the original text of each malformed line, for the rejects file."""
    wanted = {r.line for r in rejects}
    text: dict[int, str] = {}
    with open(path, encoding=encoding, newline="") as lines:
        for number, line in enumerate(lines, start=1):
            if number in wanted:
                text[number] = line.rstrip("\r\n")
    return tuple(replace(r, row=(text.get(r.line, ""),)) for r in rejects)


def _parser_error(source: str, message: str) -> InputError:
    """Turn a pandas tokenizer failure into an error with the line."""
    quote = _OPEN_QUOTE.search(message)
    if quote:
        return InputError(source, int(quote.group(1)) + 1, WHOLE_ROW,
                          "a quoted field is never closed (unbalanced '\"'); close the quote or "
                          "remove the stray quote character")
    line = _PARSER_LINE.search(message)
    return InputError(source, int(line.group(1)) if line else 1, WHOLE_ROW,
                      f"malformed CSV: {message.strip()}")


def _encoding_error(path: Path, sep: str, encoding: str, header: bool, names: list[str] | None,
                    exc: UnicodeDecodeError) -> InputError:
    """Find the line and field of the first byte that does not decode."""
    column_names = list(names or [])
    with open(path, "rb") as raw:
        for number, line in enumerate(raw, start=1):
            if number == 1 and header:
                column_names = line.decode(encoding, errors="replace").rstrip("\r\n").split(sep)
            try:
                line.decode(encoding)
            except UnicodeDecodeError as bad:
                index = line[: bad.start].count(sep.encode(encoding, errors="replace"))
                column = column_names[index] if index < len(column_names) else f"field {index + 1}"
                return InputError(
                    str(path), number, column,
                    f"byte {line[bad.start:bad.start + 1]!r} is not valid {encoding}; the file is "
                    f"probably in another encoding: pass encoding='latin-1' (CLI: --encoding "
                    f"latin-1) or the file's real encoding, or re-save it as UTF-8")
    return InputError(str(path), 1, WHOLE_ROW, f"cannot decode the file as {encoding}: {exc}")
