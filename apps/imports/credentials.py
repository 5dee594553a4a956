"""The credentials file: create and update employees' cards; HR's import counts as HR's verification."""

from __future__ import annotations

import contextlib
import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection
from django.db.models import Q

from apps.certifications.dates import default_expiry
from apps.certifications.models import CertificationType, Credential
from apps.core import clock, plausible
from apps.organisation.models import Employee

from .importer import Codes, Importer, Planned, Progress, RowCheck, display, run_import
from .layouts import CREDENTIAL_COLUMNS
from .parsing import ImportFile, cell_date
from .report import CHANGED, NEW, UNCHANGED, ImportOptions, ImportReport

Verification = Credential.Verification
_VERIFICATIONS = {
    **{choice.value: choice for choice in Verification},
    **{str(choice.label).casefold(): choice for choice in Verification},
}


def credentials_import(
    *,
    file: ImportFile,
    user=None,
    dry_run: bool = False,
    previewed: bool = False,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Create and update credentials from a file (layout: layouts.CREDENTIAL_COLUMNS); HR's cards count as verified."""
    return run_import(
        CredentialImport,
        file=file,
        user=user,
        dry_run=dry_run,
        previewed=previewed,
        options=options,
        progress=progress,
    )


class _Stored(NamedTuple):
    """A stored credential, only as much as matching and comparing need: model instances cost too much
    when a batch looks at thousands of cards, and the few that change are loaded whole when written."""

    id: int
    employee_id: int
    certification_type_id: int
    issued_on: datetime.date
    expires_on: datetime.date | None
    issuer: str
    card_number: str
    verification: str
    rejection_reason: str
    notes: str


def _stored_credentials_matching(keys: set[tuple], first_row: int, last_row: int) -> Iterable[tuple]:
    """Stored cards of the same person and certification as a key (employee, type, issue day, card
    number), with the same issue day or card number: the only ones a row can match."""
    if not keys:
        return []
    if connection.vendor == "postgresql":
        # One probe of the (employee, certification, issue day) index per key of the batch, read from the
        # scratch table. A plain join gets planned as a scan of the whole table: OFFSET 0 stops PostgreSQL
        # flattening the lateral subquery into one.
        quote = connection.ops.quote_name
        columns = ", ".join(f"c.{quote(name)}" for name in _Stored._fields)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT m.* FROM (SELECT DISTINCT e.id AS employee_id, r.type_id, r.issued_on, r.card_number "
                f"FROM {_ROWS} r JOIN {quote(Employee._meta.db_table)} e ON e.employee_number = r.employee_number "
                "WHERE r.line BETWEEN %s AND %s AND r.type_id IS NOT NULL) AS k CROSS JOIN LATERAL ("
                f"SELECT {columns} FROM {quote(Credential._meta.db_table)} c "
                "WHERE c.employee_id = k.employee_id AND c.certification_type_id = k.type_id "
                "AND (c.issued_on = k.issued_on OR (k.card_number <> '' AND c.card_number = k.card_number)) OFFSET 0"
                ") AS m",
                [first_row, last_row],
            )
            return cursor.fetchall()
    employee_ids, type_ids, days, cards = (list(part) for part in zip(*keys, strict=True))
    return (
        Credential.objects.order_by()
        .values_list(*_Stored._fields)
        .filter(
            Q(issued_on__in=set(days) - {None}) | Q(card_number__in=set(cards) - {""}),
            employee_id__in=set(employee_ids),
            certification_type_id__in=set(type_ids),
        )
    )


# Scratch tables of one pass: every row's keys, and the stored card each row matched. Duplicates within the
# file are found there rather than in dictionaries that would grow with the file (500k rows: 250 MB). The
# indexes end in the row number so that the first row of a key is the index's first entry; a batch is read by
# a range of row numbers, which the planner serves from the index without statistics on the table.
_ROWS = "credtrack_import_rows"
_MATCHED = "credtrack_import_matched"


def _create_scratch_tables() -> None:
    with connection.cursor() as cursor:
        for table in (_ROWS, _MATCHED):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_ROWS} "
            "(line integer NOT NULL, employee_number text NOT NULL, type_id bigint, issued_on date, card_number text)"
        )
        cursor.execute(f"CREATE INDEX {_ROWS}_line ON {_ROWS} (line)")
        cursor.execute(f"CREATE INDEX {_ROWS}_issue ON {_ROWS} (employee_number, type_id, issued_on, line)")
        cursor.execute(f"CREATE INDEX {_ROWS}_card ON {_ROWS} (employee_number, type_id, card_number, line)")
        cursor.execute(f"CREATE TEMPORARY TABLE {_MATCHED} (line integer NOT NULL, credential_id bigint NOT NULL)")
        cursor.execute(f"CREATE INDEX {_MATCHED}_line ON {_MATCHED} (line)")
        cursor.execute(f"CREATE INDEX {_MATCHED}_credential ON {_MATCHED} (credential_id, line)")


def _drop_scratch_tables() -> None:
    with connection.cursor() as cursor:
        for table in (_ROWS, _MATCHED):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _append(table: str, columns: str, rows: list[tuple]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(rows[0]))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)


@dataclass
class _CredentialLookups:
    employees: dict[str, int]
    by_issue: dict[tuple[int, int, datetime.date], _Stored]
    by_card: dict[tuple[int, int, str], list[_Stored]]
    # Row -> the first row of the file with the same employee, certification and issue day (or card number).
    first_issue: dict[int, int]
    first_card: dict[int, int]


class CredentialImport(Importer):
    kind = "credentials"
    columns = CREDENTIAL_COLUMNS
    model = Credential
    update_fields = [
        "issued_on",
        "expires_on",
        "issuer",
        "card_number",
        "verification",
        "verified_by",
        "verified_at",
        "rejection_reason",
        "notes",
    ]
    text_fields = ("issuer", "card_number", "notes")

    def prepare(self):
        rows = CertificationType.objects.values_list("code", "id", "expires", "validity_months", "expires_at_month_end")
        self.types = Codes((code, pk) for code, pk, *_ in rows)
        self.validity = {pk: (months if expires else None, month_end) for _, pk, expires, months, month_end in rows}
        self.max_lengths = {
            name: Credential._meta.get_field(name).max_length
            for name in self.text_fields
            if Credential._meta.get_field(name).max_length
        }
        self.today = clock.today()
        self.matched: list[tuple[int, int]] = []  # (row, stored card) of the batch being planned
        _create_scratch_tables()
        self.latest_expiries: dict[datetime.date, datetime.date] = {}
        self.default_expiries: dict[tuple[datetime.date, int], datetime.date] = {}
        self.decisions = {verification: self.decision(verification) for verification in Verification}

    def look_up(self, batch):
        """The batch's employees and the stored cards its rows can match, and which rows repeat an earlier
        one: the rows' keys go to the scratch table, where the whole file's keys so far are."""
        keys = []
        iso_days = connection.vendor != "postgresql"  # COPY takes dates, SQLite's INSERT their ISO text
        for row in batch:
            texts = row.texts
            number = texts.get("employee_number", "")
            if not number:
                continue
            type_id = self.types.get(texts.get("certification", ""))
            day = None
            if type_id:
                with contextlib.suppress(ValueError):
                    day = cell_date(row.cells.get("issued_on"), self.options.date_format)
                if day is not None and day < plausible.EARLIEST:
                    day = None  # refused: it neither matches a card nor counts as a repeat
            if day is not None and iso_days:
                day = day.isoformat()
            keys.append((row.number, number, type_id, day, texts.get("card_number", "")))
        found = _CredentialLookups({}, {}, defaultdict(list), {}, {})
        if not keys:
            return found
        first_row, last_row = batch[0].number, batch[-1].number
        _append(_ROWS, "line, employee_number, type_id, issued_on, card_number", keys)
        employees = connection.ops.quote_name(Employee._meta.db_table)
        with connection.cursor() as cursor:
            # Each row's employee, and the first row with its issue key and card key: index probes all.
            cursor.execute(
                "SELECT r.line, r.employee_number, "
                f"(SELECT e.id FROM {employees} e WHERE e.employee_number = r.employee_number), "
                f"(SELECT MIN(x.line) FROM {_ROWS} x WHERE x.employee_number = r.employee_number "
                "AND x.type_id = r.type_id AND x.issued_on = r.issued_on), "
                f"(SELECT MIN(x.line) FROM {_ROWS} x WHERE x.employee_number = r.employee_number "
                "AND x.type_id = r.type_id AND x.card_number = r.card_number AND r.card_number <> '') "
                f"FROM {_ROWS} r WHERE r.line BETWEEN %s AND %s",
                [first_row, last_row],
            )
            for row_number, number, employee_id, first_issue, first_card in cursor.fetchall():
                if employee_id is not None:
                    found.employees[number] = employee_id
                if first_issue is not None and first_issue != row_number:
                    found.first_issue[row_number] = first_issue
                if first_card is not None and first_card != row_number:
                    found.first_card[row_number] = first_card
        stored_keys = {
            (found.employees[number], type_id, day, card)
            for _, number, type_id, day, card in keys
            if type_id and number in found.employees
        }
        for stored in _stored_credentials_matching(stored_keys, first_row, last_row):
            stored = _Stored(*stored)
            key = (stored.employee_id, stored.certification_type_id)
            found.by_issue[(*key, stored.issued_on)] = stored
            if stored.card_number:
                found.by_card[(*key, stored.card_number)].append(stored)
        return found

    def recheck(self, results):
        """Two rows updating the same stored card (say one by its card number, one by its issue day)."""
        matched, self.matched = self.matched, []
        if not matched:
            return
        _append(_MATCHED, "line, credential_id", matched)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT m.line, (SELECT MIN(x.line) FROM {_MATCHED} x WHERE x.credential_id = m.credential_id) "
                f"FROM {_MATCHED} m WHERE m.line BETWEEN %s AND %s",
                [matched[0][0], matched[-1][0]],
            )
            again = {row: first for row, first in cursor.fetchall() if first != row}
        for check, _ in results:
            if (first := again.get(check.row.number)) is not None:
                check.error(None, f"Row {first} already updates this same credential.")

    def conclude(self, *, write):
        _drop_scratch_tables()
        super().conclude(write=write)

    def plan_row(self, check, found):
        # The hottest code of an import (every row, in both passes): cells are read from the row's texts
        # directly, and the date rules are looked up per distinct day rather than worked out per row.
        texts = check.row.texts
        number = texts.get("employee_number", "")
        if not number:
            check.error("employee_number", "Required, but blank.")
        code = texts.get("certification", "")
        type_id = self.code(check, "certification", self.types, "certification code")
        issued_on = check.date("issued_on", required=True)
        expires_on = check.date("expires_on") if texts.get("expires_on") else None
        card_number = texts.get("card_number", "")
        given = {"issuer": texts.get("issuer", ""), "card_number": card_number, "notes": texts.get("notes", "")}
        verification = self.verification(check) if texts.get("verification") else None
        reason = texts.get("rejection_reason", "")
        employee_id = found.employees.get(number)
        if number and employee_id is None:
            check.error("employee_number", f"No employee has the number {number!r}; import the staff file first.")
        if issued_on:
            if issued_on > self.today:
                check.error("issued_on", f"The issue date {issued_on} is in the future.")
            elif issued_on < plausible.EARLIEST:  # the only way a day up to today can be implausible
                check.error("issued_on", plausible.event_problem(issued_on, today=self.today) or "")
                issued_on = None  # nothing below may do arithmetic with it
        if issued_on and expires_on:
            if expires_on < issued_on:
                check.error("expires_on", f"The expiry date {expires_on} is before the issue date {issued_on}.")
            elif expires_on > self.latest_expiry(issued_on):
                check.error("expires_on", plausible.expiry_problem(expires_on, issued_on=issued_on) or "")
        for name, limit in self.max_lengths.items():
            if len(given[name]) > limit:
                check.error(name, f"Longer than {limit} characters ({len(given[name])}).")
        if (first := found.first_issue.get(check.row.number)) is not None:
            what = f"{number}'s {code} issued on {issued_on}"
            check.error("issued_on", f"{what} appears again in this file (first on row {first}).")
        if (first := found.first_card.get(check.row.number)) is not None:
            what = f"{number}'s {code} card {card_number}"
            check.error("card_number", f"{what} appears again in this file (first on row {first}).")
        if check.errors:
            return None

        stored = self.match(check, found, (employee_id, type_id), issued_on, card_number, code)
        if check.errors:
            return None
        if stored is None:
            planned = self.new_credential(check.row, employee_id, type_id, issued_on, expires_on, given, verification)
            result = planned.changes
            result["rejection_reason"] = reason
        else:
            if issued_on != stored.issued_on or card_number != stored.card_number:
                # Two rows can reach the same card unnoticed only if one found it by its card number but
                # gives another issue day, and the other by its issue day but gives another card number (or
                # none): rows that give both as stored share a key with any other row that reaches the card.
                self.matched.append((check.row.number, stored.id))
            given.update(issued_on=issued_on, expires_on=expires_on, verification=verification)
            given["rejection_reason"] = reason
            changes = {name: value for name, value in given.items() if value and getattr(stored, name) != value}
            if not changes:
                # Unchanged (a re-import): nothing below can object to what is already stored.
                if reason and stored.verification != Verification.REJECTED:
                    check.error("rejection_reason", "A rejection reason goes only with verification 'rejected'.")
                elif stored.verification == Verification.REJECTED and not stored.rejection_reason.strip():
                    check.error(
                        "rejection_reason", "Give the reason this credential is rejected; the employee sees it."
                    )
                if check.errors:
                    return None
                planned = Planned(check.row, UNCHANGED, None, [])
                planned.pk = stored.id
                return planned
            before = {name: display(getattr(stored, name)) for name in changes}
            result = {**stored._asdict(), **changes}
            if "verification" in changes:
                changes.update(self.decisions[changes["verification"]])
                if changes["verification"] != Verification.REJECTED and stored.rejection_reason:
                    before["rejection_reason"] = stored.rejection_reason
                    changes["rejection_reason"] = result["rejection_reason"] = ""
            planned = Planned(check.row, CHANGED, None, list(changes), before)
            planned.pk, planned.changes = stored.id, changes
        if reason and result["verification"] != Verification.REJECTED:
            check.error("rejection_reason", "A rejection reason goes only with verification 'rejected'.")
        if result["verification"] == Verification.REJECTED and not result["rejection_reason"].strip():
            check.error("rejection_reason", "Give the reason this credential is rejected; the employee sees it.")
        if result["expires_on"] and result["expires_on"] < result["issued_on"]:
            stored_expiry = result["expires_on"]
            check.error("expires_on", f"The stored expiry {stored_expiry} is before the issue date {issued_on}.")
        return None if check.errors else planned

    def latest_expiry(self, issued_on: datetime.date) -> datetime.date:
        latest = self.latest_expiries.get(issued_on)
        if latest is None:
            latest = self.latest_expiries[issued_on] = plausible.latest_expiry(issued_on)
        return latest

    def new_credential(self, row, employee_id, type_id, issued_on, expires_on, texts, verification) -> Planned:
        months, at_month_end = self.validity[type_id]
        shown = {}
        if expires_on is None and months:
            expires_on = self.default_expiries.get((issued_on, type_id))
            if expires_on is None:
                expires_on = default_expiry(issued_on, months, at_month_end=at_month_end)
                self.default_expiries[(issued_on, type_id)] = expires_on
            shown["expires_on"] = f"{expires_on.isoformat()} (proposed)"
        if verification is None:
            verification = Verification.VERIFIED
            shown["verification"] = verification.value
        values = {
            "employee_id": employee_id,
            "certification_type_id": type_id,
            "issued_on": issued_on,
            "expires_on": expires_on,
            "verification": verification,
            **self.decisions[verification],
            **texts,
        }
        return Planned(row, NEW, None, fields=[], shown=shown, changes=values)

    def decision(self, verification: str) -> dict:
        """HR's import is HR's decision: verified or rejected by the importing user, now."""
        decided = verification != Verification.PENDING
        return {
            "verified_by_id": self.user.pk if decided and self.user else None,
            "verified_at": self.now if decided else None,
        }

    def verification(self, check: RowCheck) -> str | None:
        text = check.text("verification")
        if not text:
            return None
        value = _VERIFICATIONS.get(text.casefold())
        if value is None:
            check.error("verification", f"Unknown verification {text!r}: use verified, pending or rejected.")
        return value

    def match(self, check, found: _CredentialLookups, key, issued_on, card_number, code) -> _Stored | None:
        """The stored card this row is about: by card number when given, else by issue date."""
        by_issue = found.by_issue.get((*key, issued_on))
        candidates = found.by_card.get((*key, card_number), []) if card_number else []
        if len(candidates) > 1:
            if by_issue in candidates:
                return by_issue
            check.error("card_number", f"Card {card_number} is on several {code} credentials; fix them in the admin.")
            return None
        if candidates and by_issue is not None and by_issue.id != candidates[0].id:
            check.error(
                "issued_on",
                f"Card {card_number} is the {code} issued on {candidates[0].issued_on}, but another {code} "
                f"of this employee was issued on {issued_on}.",
            )
            return None
        return candidates[0] if candidates else by_issue

    def write(self, planned):
        new = [p.changes for p in planned if p.action == NEW]
        changed = [p for p in planned if p.action == CHANGED]
        if new:
            self.create_with_history(new)
            self.affected.update(values["employee_id"] for values in new)
        if changed:
            stored = Credential.objects.in_bulk([p.pk for p in changed])
            for p in changed:
                p.instance = stored[p.pk]
                for name, value in p.changes.items():
                    setattr(p.instance, name, value)
            self.affected.update(credential.employee_id for credential in self.write_rows(changed))
