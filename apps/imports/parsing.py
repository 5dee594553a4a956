"""Reading CSV and XLSX import files row by row, as HR configured them, never by guessing.

The file type comes from its extension. A CSV file is decoded with the encoding HR chose (UTF-8 by
default, a byte-order mark skipped if present); an 8-bit encoding is refused for a file that is plainly
UTF-8, because decoding it would silently garble every accented name. Dates are read with the one format
given (ISO YYYY-MM-DD by default); XLSX cells that Excel stores as dates are dates whatever the format.
Rows are streamed: a file is never held in memory as a table, and can be read again for a second pass.

Hostile or oversized files are refused early (`Limits`, from the IMPORT_MAX_* settings): a file over the size
limit before any parsing, an XLSX whose parts would inflate past the limit (a zip bomb) from its directory
alone, a sheet past the row limit as soon as it gets there. A cell over the length limit, or holding a NUL
character (which PostgreSQL cannot store), is a "Row N, column X" error like any other bad cell.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import functools
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

ISO_DATE = "%Y-%m-%d"
# Option value -> codec. "utf-8" skips a byte-order mark if there is one (Excel's "CSV UTF-8" writes one).
ENCODINGS = {"utf-8": "utf-8-sig", "utf-8-sig": "utf-8-sig", "latin-1": "latin-1", "cp1252": "cp1252"}
ENCODING_LABELS = {
    "utf-8": "UTF-8 (with or without byte-order mark)",
    "latin-1": "Latin-1 (ISO-8859-1)",
    "cp1252": 'Windows-1252 (Excel "CSV" on Windows)',
}
EIGHT_BIT_CODECS = {"latin-1", "cp1252"}
KINDS = ("csv", "xlsx")
# A spreadsheet runs a cell starting with one of these as a formula; exports prefix them with an apostrophe.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_DATE_PARTS = {"%Y": "YYYY", "%y": "YY", "%m": "MM", "%d": "DD", "%b": "Mon", "%B": "Month"}
_SAMPLE_DAY = datetime.date(2025, 9, 5)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20 * 1024 * 1024
    max_rows: int = 200_000
    max_cell_chars: int = 2_000
    # What the XLSX parts may inflate to, in all; real workbooks inflate 5-20x, a zip bomb thousands of times.
    max_unzipped_bytes: int = 200 * 1024 * 1024
    max_zip_ratio: int = 100

    @classmethod
    def from_settings(cls) -> Limits:
        from django.conf import settings

        return cls(
            max_bytes=settings.IMPORT_MAX_BYTES,
            max_rows=settings.IMPORT_MAX_ROWS,
            max_cell_chars=settings.IMPORT_MAX_CELL_CHARS,
            max_unzipped_bytes=settings.IMPORT_MAX_UNZIPPED_BYTES,
        )


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    is_date: bool = False
    help: str = ""


class FileError(Exception):
    """The file cannot be read past this point. `problems` are (row, column, message) triples."""

    def __init__(self, problems: list[tuple[int | None, str | None, str]]):
        super().__init__("; ".join(message for _, _, message in problems))
        self.problems = problems


@dataclass(frozen=True)
class ImportFile:
    """A CSV or XLSX file that can be opened as often as needed (one pass checks, the next writes)."""

    name: str
    kind: str
    opener: Callable[[], BinaryIO]

    @classmethod
    def from_path(cls, path: str | Path) -> ImportFile:
        path = Path(path)
        kind = kind_for(path.name)
        assert kind is not None  # strict: an unknown extension raised FileError
        return cls(name=path.name, kind=kind, opener=lambda: path.open("rb"))

    @classmethod
    def from_bytes(cls, data: bytes, *, name: str, kind: str | None = None) -> ImportFile:
        by_extension = kind_for(name, strict=kind is None)
        if kind is not None and by_extension and by_extension != kind:
            raise FileError([(None, None, f"{name} is named like a {by_extension.upper()} file, not {kind.upper()}.")])
        kind = kind or by_extension
        assert kind is not None  # strict when no kind was given: an unknown extension raised FileError
        return cls(name=name, kind=kind, opener=lambda: io.BytesIO(data))

    def open(self) -> BinaryIO:
        return self.opener()


def kind_for(name: str, *, strict: bool = True) -> str | None:
    suffix = Path(name).suffix.lower().lstrip(".")
    if suffix in KINDS:
        return suffix
    if strict:
        raise FileError([(None, None, f"{name}: only .csv and .xlsx files can be imported.")])
    return None


@dataclass
class SourceRow:
    """One data row: `number` as the spreadsheet shows it (the header is row 1), cells by column name."""

    number: int
    cells: dict[str, object]
    problems: list[tuple[str | None, str]] = field(default_factory=list)
    # Each cell as text, worked out once: the checks read the same cells many times over.
    texts: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if not self.texts:
            self.texts = {name: cell_text(value) for name, value in self.cells.items()}

    def text(self, column: str) -> str:
        return self.texts.get(column, "")


def read_table(
    file: ImportFile, columns: tuple[Column, ...], *, encoding: str, limits: Limits | None = None
) -> Iterator[SourceRow]:
    """The data rows of `file`, checked against `columns`; raises FileError for an unusable header or a file
    past the limits."""
    limits = limits or Limits.from_settings()
    check_size(file, limits)
    records = _records(file, encoding=encoding)
    try:
        _, header = next(records)
    except StopIteration:
        raise FileError([(1, None, "The file is empty: the first row must name the columns.")]) from None
    positions = _header_positions(header, columns)
    width = len(header)
    named = list(positions.items())
    # Columns whose values would be lost: past the header, or under a blank heading.
    headless = [i for i in range(width) if _blank(header[i])]
    max_chars = limits.max_cell_chars
    for number, cells in records:
        if number > limits.max_rows + 1:
            raise FileError([(number, None, f"The file has more than {limits.max_rows:,} rows: split it.")])
        count = len(cells)
        if all(cell.__class__ is str for cell in cells):
            # CSV (every cell text): the common case, kept to a few C-level operations per row.
            if not "".join(cells).strip():
                continue
            values: dict[str, object] = {name: cells[i] if i < count else None for name, i in named}
            texts = {name: unescape_formula(cells[i].strip()) if i < count else "" for name, i in named}
            row = SourceRow(number, values, texts=texts)
            if "\x00" in "".join(cells) or max(map(len, cells)) > max_chars:
                _check_cells(row, limits)
        else:
            if all(_blank(cell) for cell in cells):
                continue
            row = SourceRow(number, {name: cells[i] if i < count else None for name, i in named})
            _check_cells(row, limits)
        unnamed = [i for i in headless if i < count and not _blank(cells[i])]
        unnamed += [i for i in range(width, count) if not _blank(cells[i])]
        if unnamed:
            row.problems.append((None, f"{len(unnamed)} value(s) in column(s) without a header; remove or name them."))
        yield row


def check_size(file: ImportFile, limits: Limits) -> None:
    """Refuse a file over the size limit, or an XLSX that would inflate past it, before parsing anything."""
    with file.open() as raw:
        size = raw.seek(0, io.SEEK_END)
        if size > limits.max_bytes:
            raise FileError(
                [(None, None, f"{file.name} is {_mb(size)}; an import file may be at most {_mb(limits.max_bytes)}.")]
            )
        if file.kind != "xlsx":
            return
        raw.seek(0)
        try:
            with zipfile.ZipFile(raw) as archive:
                unzipped = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError):
            raise FileError([(None, None, f"{file.name} is not a readable XLSX workbook.")]) from None
    if unzipped > limits.max_unzipped_bytes or unzipped > max(size, 1) * limits.max_zip_ratio:
        raise FileError(
            [
                (
                    None,
                    None,
                    f"{file.name} would inflate to {_mb(unzipped)} from {_mb(size)}: that is not an ordinary workbook "
                    "(a compressed bomb, or one enormous cell). Save the sheet again, or as CSV.",
                )
            ]
        )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _check_cells(row: SourceRow, limits: Limits) -> None:
    """Cells the database must never see become the row's errors; what is kept of them (NULs removed, the
    first max_cell_chars) is safe for the lookups that run before the row is refused."""
    for name, value in row.cells.items():
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            row.problems.append((name, "Contains a NUL character (an invisible control character): retype the cell."))
            row.cells[name] = value = value.replace("\x00", "")
        if len(value) > limits.max_cell_chars:
            row.problems.append((name, f"Longer than {limits.max_cell_chars:,} characters ({len(value):,})."))
            row.cells[name] = value = value[: limits.max_cell_chars]
        row.texts[name] = cell_text(value)


def estimate_rows(file: ImportFile) -> int | None:
    """About how many data rows the file has, for a progress bar (one cheap pass, or the sheet's dimensions)."""
    try:
        with file.open() as raw:
            if file.kind == "csv":
                return max(sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b"")) - 1, 0)
            from openpyxl import load_workbook

            book = load_workbook(raw, read_only=True, data_only=True)
            try:
                rows = book.worksheets[0].max_row
            finally:
                book.close()
            return max(rows - 1, 0) if rows else None
    except Exception:  # an unreadable file is reported properly by the import itself
        return None


def cell_text(value) -> str:
    """A cell as trimmed text: XLSX numbers lose Excel's ".0", escaped formula triggers lose the apostrophe."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date() if value.time() == datetime.time.min else value
    if isinstance(value, datetime.date):
        value = value.isoformat()
    return unescape_formula(str(value).strip())


def cell_date(value, date_format: str) -> datetime.date | None:
    """A date cell, or None when blank; raises ValueError with a message HR can act on."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if _blank(value):
        return None
    if isinstance(value, str):
        try:
            return _parse_date(value.strip(), date_format)
        except ValueError:
            expected = describe_date_format(date_format)
            raise ValueError(f"{value.strip()!r} is not a date in the format {expected}.") from None
    raise ValueError(
        f"{value!r} is a number, not a date: format the cell as a date, or as text in the format "
        f"{describe_date_format(date_format)}."
    )


@functools.lru_cache(maxsize=4096)
def _parse_date(text: str, date_format: str) -> datetime.date:
    # Files repeat the same few hundred dates; strptime is slow enough to show on 50,000 rows.
    return datetime.datetime.strptime(text, date_format).date()


def escape_formula(text: str) -> str:
    """What a spreadsheet would run as a formula is shown as text instead (OWASP "CSV injection")."""
    return "'" + text if text.lstrip("'").startswith(FORMULA_TRIGGERS) else text


def unescape_formula(text: str) -> str:
    # The exact inverse of escape_formula, so an exported file imports unchanged.
    return text[1:] if text.startswith("'") and text.lstrip("'").startswith(FORMULA_TRIGGERS) else text


def describe_date_format(date_format: str) -> str:
    readable = date_format
    for directive, words in _DATE_PARTS.items():
        readable = readable.replace(directive, words)
    return readable if readable == date_format else f"{readable} ({date_format})"


def check_date_format(date_format: str) -> str:
    """Refuse a format that cannot read back the dates it writes (a typo like "%Y-%m-%D" or "YYYY-MM-DD")."""
    try:
        parsed = datetime.datetime.strptime(_SAMPLE_DAY.strftime(date_format), date_format).date()
    except ValueError:
        parsed = None
    if parsed != _SAMPLE_DAY:
        raise ValueError(f"{date_format!r} is not a usable date format; use strftime codes, e.g. %Y-%m-%d or %m/%d/%Y.")
    return date_format


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _normalise_header(value) -> str:
    return re.sub(r"[\s-]+", "_", cell_text(value).lower())


def _header_positions(header: list, columns: tuple[Column, ...]) -> dict[str, int]:
    known = {column.name for column in columns}
    positions: dict[str, int] = {}
    problems: list[tuple[int | None, str | None, str]] = []
    for index, raw in enumerate(header):
        name = _normalise_header(raw)
        if not name:
            continue
        if name in positions:
            problems.append((1, name, f"Column {name!r} appears twice."))
        elif name in known:
            positions[name] = index
        else:
            expected = ", ".join(column.name for column in columns)
            problems.append((1, name, f"Unknown column {cell_text(raw)!r}; the columns are: {expected}."))
    for column in columns:
        if column.required and column.name not in positions:
            problems.append((1, column.name, f"Required column {column.name!r} is missing."))
    if problems:
        if len(header) == 1 and ";" in cell_text(header[0]):
            problems.append((1, None, "The header looks semicolon-separated: save the file as comma-separated CSV."))
        raise FileError(problems)
    return positions


def _records(file: ImportFile, *, encoding: str) -> Iterator[tuple[int, list]]:
    if file.kind == "csv":
        yield from _csv_records(file, encoding)
    else:
        yield from _xlsx_records(file)


def _csv_records(file: ImportFile, encoding: str) -> Iterator[tuple[int, list]]:
    codec = ENCODINGS[encoding]
    if codec in EIGHT_BIT_CODECS:
        _refuse_utf8_as_8bit(file, encoding)
    with file.open() as raw:
        reader = csv.reader(_decoded_lines(raw, codec), strict=True)
        number = 0
        try:
            for number, cells in enumerate(reader, start=1):
                yield number, cells
        except csv.Error as error:
            if "field larger than field limit" in str(error):
                message = f"A cell is longer than the csv reader allows (over {csv.field_size_limit():,} characters)."
                raise FileError([(number + 1, None, message)]) from None
            raise FileError([(number + 1, None, f"Not a readable CSV row ({error}).")]) from None


def _decoded_lines(raw: BinaryIO, codec: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(codec)()
    for line_number, line in enumerate(raw, start=1):
        if line_number == 1 and line.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise FileError([(None, None, 'The file is UTF-16 (Excel\'s "Unicode text"): save it as CSV UTF-8.')])
        try:
            yield decoder.decode(line)
        except UnicodeDecodeError as error:
            bad = line[error.start : error.start + 1].hex()
            raise FileError(
                [
                    (
                        None,
                        None,
                        f"Line {line_number} of the file is not valid UTF-8 (byte 0x{bad}). If the file was saved as "
                        'Latin-1 or Windows-1252 (Excel\'s plain "CSV"), choose that encoding.',
                    )
                ]
            ) from None


def _refuse_utf8_as_8bit(file: ImportFile, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    multibyte = False
    with file.open() as raw:
        for chunk in iter(lambda: raw.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return  # not UTF-8: an 8-bit encoding is the right reading
            multibyte = multibyte or max(chunk, default=0) > 0x7F
    if multibyte:
        raise FileError([(None, None, f"The file is UTF-8 but {ENCODING_LABELS[encoding]} was chosen; choose UTF-8.")])


def _xlsx_records(file: ImportFile) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook

    unreadable = FileError([(None, None, f"{file.name} is not a readable XLSX workbook.")])
    # openpyxl meets a broken or hostile part with whatever its code path raises (BadZipFile, KeyError, an XML
    # ParseError, TypeError for an unknown attribute, IndexError for a book without sheets...): each means the
    # same to HR, and none may become a 500. Only errors raised here are caught: the caller's go past the yield.
    with file.open() as raw:
        try:
            book = load_workbook(raw, read_only=True, data_only=True)
        except Exception:
            raise unreadable from None
        try:
            try:
                sheet = book.worksheets[0]
                # Some tools write wrong sheet dimensions; without this, read-only mode stops at them.
                sheet.reset_dimensions()
                rows = enumerate(sheet.iter_rows(values_only=True), start=1)
            except Exception:
                raise unreadable from None
            while True:
                try:
                    number, cells = next(rows)
                except StopIteration:
                    return
                except Exception:
                    raise unreadable from None
                yield number, list(cells)
        finally:
            book.close()
