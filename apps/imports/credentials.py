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
from django.db.models.expressions import RawSQL

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


def _stored_credentials_matching(keys: set[tuple]) -> Iterable[tuple]:
    """Stored cards of the same person and certification as a key (employee, type, issue day, card
    number), with the same issue day or card number: the only ones a row can match."""
    if not keys:
        return []
    stored = Credential.objects.order_by().values_list(*_Stored._fields)
    employee_ids, type_ids, days, cards = (list(part) for part in zip(*keys, strict=True))
    if connection.vendor == "postgresql":
        # One probe of the (employee, certification, issue day) index per key. Filtering on each part
        # separately would fetch every card of every person in the batch (years of renewals), and a plain
        # join gets planned as a scan of the whole table: OFFSET 0 stops PostgreSQL flattening the lateral
        # subquery into one.
        table = connection.ops.quote_name(Credential._meta.db_table)
        matching = RawSQL(
            "SELECT m.id FROM unnest(%s::bigint[], %s::bigint[], %s::date[], %s::text[]) "
            "AS k(employee_id, type_id, issued_on, card_number) CROSS JOIN LATERAL ("
            f"SELECT c.id FROM {table} c WHERE c.employee_id = k.employee_id AND c.certification_type_id = k.type_id "
            "AND (c.issued_on = k.issued_on OR (k.card_number <> '' AND c.card_number = k.card_number)) OFFSET 0) AS m",
            [employee_ids, type_ids, days, cards],
        )
        return stored.filter(id__in=matching)
    return stored.filter(
        Q(issued_on__in=set(days) - {None}) | Q(card_number__in=set(cards) - {""}),
        employee_id__in=set(employee_ids),
        certification_type_id__in=set(type_ids),
    )


@dataclass
class _CredentialLookups:
    employees: dict[str, int]
    by_issue: dict[tuple[int, int, datetime.date], _Stored]
    by_card: dict[tuple[int, int, str], list[_Stored]]


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
        self.seen_issues: dict[tuple, int] = {}
        self.seen_cards: dict[tuple, int] = {}
        self.seen_credentials: dict[int, int] = {}

    def look_up(self, batch):
        numbers = {row.text("employee_number") for row in batch} - {""}
        employees = {}
        if numbers:
            employees = dict(
                Employee.objects.filter(employee_number__in=numbers).order_by().values_list("employee_number", "id")
            )
        keys = set()
        for row in batch:
            employee_id = employees.get(row.text("employee_number"))
            type_id = self.types.get(row.text("certification"))
            if employee_id and type_id:
                with contextlib.suppress(ValueError):
                    day = cell_date(row.cells.get("issued_on"), self.options.date_format)
                    keys.add((employee_id, type_id, day, row.text("card_number")))
        by_issue, by_card = {}, defaultdict(list)
        for stored in _stored_credentials_matching(keys):
            stored = _Stored(*stored)
            key = (stored.employee_id, stored.certification_type_id)
            by_issue[(*key, stored.issued_on)] = stored
            if stored.card_number:
                by_card[(*key, stored.card_number)].append(stored)
        return _CredentialLookups(employees=employees, by_issue=by_issue, by_card=by_card)

    def plan_row(self, check, found):
        number = check.text("employee_number", required=True)
        type_id = self.code(check, "certification", self.types, "certification code")
        issued_on = check.date("issued_on", required=True)
        expires_on = check.date("expires_on")
        texts = {name: check.text(name) for name in self.text_fields}
        verification = self.verification(check)
        reason = check.text("rejection_reason")
        employee_id = found.employees.get(number)
        if number and employee_id is None:
            check.error("employee_number", f"No employee has the number {number!r}; import the staff file first.")
        if issued_on and issued_on > self.today:
            check.error("issued_on", f"The issue date {issued_on} is in the future.")
        elif issued_on and (problem := plausible.event_problem(issued_on, today=self.today)):
            check.error("issued_on", problem)
            issued_on = None  # nothing below may do arithmetic with it
        if issued_on and expires_on and expires_on < issued_on:
            check.error("expires_on", f"The expiry date {expires_on} is before the issue date {issued_on}.")
        elif issued_on and expires_on and (problem := plausible.expiry_problem(expires_on, issued_on=issued_on)):
            check.error("expires_on", problem)
        for name, limit in self.max_lengths.items():
            if len(texts[name]) > limit:
                check.error(name, f"Longer than {limit} characters ({len(texts[name])}).")
        code = check.row.text("certification")
        if number and type_id and issued_on:
            key = (number, type_id, issued_on)
            self.once(check, "issued_on", self.seen_issues, key, f"{number}'s {code} issued on {issued_on}")
        if number and type_id and texts["card_number"]:
            key = (number, type_id, texts["card_number"])
            self.once(check, "card_number", self.seen_cards, key, f"{number}'s {code} card {texts['card_number']}")
        if check.errors:
            return None

        stored = self.match(check, found, (employee_id, type_id), issued_on, texts["card_number"], code)
        if check.errors:
            return None
        if stored is None:
            planned = self.new_credential(check.row, employee_id, type_id, issued_on, expires_on, texts, verification)
            result = planned.changes
            result["rejection_reason"] = reason
        else:
            first = self.seen_credentials.setdefault(stored.id, check.row.number)
            if first != check.row.number:
                check.error(None, f"Row {first} already updates this same credential.")
            given = {"issued_on": issued_on, "expires_on": expires_on, **texts, "verification": verification}
            given["rejection_reason"] = reason
            changes = {name: value for name, value in given.items() if value and getattr(stored, name) != value}
            before = {name: display(getattr(stored, name)) for name in changes}
            result = {**stored._asdict(), **changes}
            if "verification" in changes:
                changes.update(self.decision(changes["verification"]))
                if changes["verification"] != Verification.REJECTED and stored.rejection_reason:
                    before["rejection_reason"] = stored.rejection_reason
                    changes["rejection_reason"] = result["rejection_reason"] = ""
            planned = Planned(check.row, CHANGED if changes else UNCHANGED, None, list(changes), before)
            planned.pk, planned.changes = stored.id, changes
        if reason and result["verification"] != Verification.REJECTED:
            check.error("rejection_reason", "A rejection reason goes only with verification 'rejected'.")
        if result["verification"] == Verification.REJECTED and not result["rejection_reason"].strip():
            check.error("rejection_reason", "Give the reason this credential is rejected; the employee sees it.")
        if result["expires_on"] and result["expires_on"] < result["issued_on"]:
            stored_expiry = result["expires_on"]
            check.error("expires_on", f"The stored expiry {stored_expiry} is before the issue date {issued_on}.")
        return None if check.errors else planned

    def new_credential(self, row, employee_id, type_id, issued_on, expires_on, texts, verification) -> Planned:
        months, at_month_end = self.validity[type_id]
        shown = {}
        if expires_on is None and months:
            expires_on = default_expiry(issued_on, months, at_month_end=at_month_end)
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
            **self.decision(verification),
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
        changed = [p for p in planned if p.action == CHANGED]
        stored = Credential.objects.in_bulk([p.pk for p in changed])
        for p in planned:
            if p.action == NEW:
                p.instance = Credential(**p.changes)
                continue
            p.instance = stored[p.pk]
            for name, value in p.changes.items():
                setattr(p.instance, name, value)
        self.affected.update(credential.employee_id for credential in self.write_rows(planned))
