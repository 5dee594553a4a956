"""What an import found and did: counted rows, the errors with their row and column, and a preview of changes."""

from __future__ import annotations

from dataclasses import dataclass, field

from .parsing import ENCODINGS, ISO_DATE, check_date_format

MAX_REPORTED_ERRORS = 500
PREVIEW_ROWS = 200
NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"


@dataclass(frozen=True)
class ImportOptions:
    encoding: str = "utf-8"
    date_format: str = ISO_DATE
    # Old records entered in bulk (a first load, a merger): lapses that began before today reach each
    # manager as one summary instead of one escalation each (docs/notifications.md, "Backfill").
    backfill: bool = False

    def __post_init__(self):
        if self.encoding not in ENCODINGS:
            raise ValueError(f"Unknown encoding {self.encoding!r}; choose one of {', '.join(ENCODINGS)}.")
        check_date_format(self.date_format)


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str | None
    message: str

    def __str__(self):
        where = [f"Row {self.row}" if self.row else "", f"column {self.column}" if self.column else ""]
        where = ", ".join(part for part in where if part)
        return f"{where}: {self.message}" if where else self.message


@dataclass
class RowChange:
    """A new or changed row for the preview: the row's cells, and the stored values it replaces."""

    row: int
    action: str
    cells: dict[str, str]
    before: dict[str, str]


@dataclass
class ImportReport:
    kind: str
    file_name: str
    dry_run: bool
    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_cells: dict[int, dict[str, str]] = field(default_factory=dict)
    changes: list[RowChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    employees_to_recompute: int = 0
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.error_count

    def add_error(self, row: int | None, column: str | None, message: str, cells: dict[str, str] | None = None):
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row, column, message))
            if row is not None and cells is not None:
                self.error_cells[row] = cells

    def summary(self) -> str:
        counts = (
            f"{self.file_name}: {self.rows} row(s): {self.new} new, {self.changed} changed, "
            f"{self.unchanged} unchanged, {self.error_count} error(s)."
        )
        if self.error_count:
            return f"{counts} Nothing was imported."
        if self.dry_run:
            return f"{counts} Dry run: nothing was written."
        if not (self.new or self.changed):
            return f"{counts} Everything was up to date: nothing was written."
        return f"{counts} Imported; compliance recompute queued for {self.employees_to_recompute} employee(s)."
