"""Bringing rows from before the plausible-date constraints inside them, without losing what they said.

The CheckConstraints (apps/core/plausible.py) cannot be added to a table that holds a year like 0001 or
9999: PostgreSQL refuses the ALTER and SQLite the table rebuild. So the migrations that add them first
run the repair here, on the historical models they are given:

- a date before DB_EARLIEST becomes DB_EARLIEST, one after DB_LATEST becomes DB_LATEST (clamping keeps the
  order of hire, assignment and termination, so the older constraints still hold; nulling a termination
  would bring a leaver back, nulling an expiry would make a card valid forever);
- an expiry more than DB_MAX_VALIDITY_DAYS after the (repaired) issue day is brought back to that day, and
  never before the issue day (the card counts for less time, never more);
- a repaired card whose issue day would now equal another card's of the same person and type is moved one
  day further in, so the uniqueness constraint holds too.

Nothing is dropped: each repaired row gets a history entry (who: the upgrade; reason: the original values)
and a card's notes say what was changed. Past versions in the history are clamped the same way (the
timeline reads them), each keeping its originals in its reason. Once the "Data problems" table exists,
`report_repairs` lists every such history entry there for HR (source "repair"), where HR dismisses it after
checking the record.
Originals are read as text, so a year Python's dates cannot hold (PostgreSQL's 20000, BC or infinity) is kept too.
The bounds come from apps/core/plausible.py: changing them needs a migration that replaces the constraints and
runs this repair again before it.
"""

from __future__ import annotations

import datetime
import logging

from django.db.models import F, Model, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from .plausible import DB_EARLIEST, DB_LATEST, DB_MAX_VALIDITY_DAYS

logger = logging.getLogger(__name__)

# The history entry's reason starts with this; `report_repairs` finds the repairs by it (100 characters in all).
MARK = "Upgrade repair:"
BOUNDS = f"outside {DB_EARLIEST.isoformat()}..{DB_LATEST.isoformat()} or valid over {DB_MAX_VALIDITY_DAYS} days"
LONGEST = datetime.timedelta(days=DB_MAX_VALIDITY_DAYS)


def clamp(original: str) -> datetime.date:
    """The in-range day nearest to a stored date given as the database's text for it."""
    text = original.strip()
    if text.endswith("BC") or text.startswith("-"):  # PostgreSQL's BC years and -infinity
        return DB_EARLIEST
    if text == "infinity":
        return DB_LATEST
    year = text.split("-", 1)[0]
    if year.isdigit() and int(year) > 9999:
        return DB_LATEST
    day = datetime.date.fromisoformat(text[:10])
    return min(max(day, DB_EARLIEST), DB_LATEST)


def _as_text(fields: list[str]) -> dict:
    return {f"{name}_text": Cast(name, TextField()) for name in fields}


def _out_of_range(fields: list[str]) -> Q:
    query = Q()
    for name in fields:
        query |= Q(**{f"{name}__lt": DB_EARLIEST}) | Q(**{f"{name}__gt": DB_LATEST})
    return query


Changes = dict[str, tuple[str, datetime.date]]  # field: (the original as the database wrote it, the repaired day)


def _record(model: type[Model], historical: type[Model], pk: int, changes: Changes) -> None:
    """Write the repaired row's history entry (its values now, the originals in the reason) and log it."""
    said = ", ".join(f"{name} was {old}" for name, (old, _new) in changes.items())
    attnames = [field.attname for field in model._meta.concrete_fields]
    values = model._default_manager.filter(pk=pk).values(*attnames).get()
    historical._default_manager.create(
        **values,
        history_date=timezone.now(),
        history_type="~",
        history_change_reason=f"{MARK} {said}"[:100],
        history_user=None,
    )
    logger.warning("Upgrade repaired %s %s (%s): %s", model._meta.model_name, pk, BOUNDS, said)


def _repair_history(historical: type[Model], fields: list[str]) -> None:
    """Clamp the dates of past versions too: the timeline reads them, and a year like 20000 cannot even be
    loaded. Each version's reason keeps its originals (before any reason it had, to its 100 characters)."""
    texts = _as_text(fields)
    versions = historical._default_manager.filter(_out_of_range(fields)).annotate(**texts).order_by("history_id")
    for row in list(versions.values("history_id", "history_change_reason", *texts)):
        changes = {
            name: (original, clamp(original))
            for name in fields
            if (original := row[f"{name}_text"]) is not None and clamp(original).isoformat() != original
        }
        said = ", ".join(f"{name} was {old}" for name, (old, _new) in changes.items())
        reason = "; ".join(filter(None, [f"{MARK} {said}", row["history_change_reason"]]))[:100]
        historical._default_manager.filter(history_id=row["history_id"]).update(
            history_change_reason=reason, **{name: new for name, (_, new) in changes.items()}
        )


def repair_employees(apps, schema_editor) -> None:
    """Before `employee_dates_plausible`: clamp every hire, assignment and termination day into range."""
    employee = apps.get_model("organisation", "Employee")
    historical = apps.get_model("organisation", "HistoricalEmployee")
    fields = ["hired_on", "assigned_on", "terminated_on"]
    _repair_history(historical, fields)
    texts = _as_text(fields)
    suspects = employee._default_manager.filter(_out_of_range(fields)).annotate(**texts).order_by("pk")
    for row in list(suspects.values("pk", *texts)):
        changes = {
            name: (original, clamp(original))
            for name in fields
            if (original := row[f"{name}_text"]) is not None and clamp(original).isoformat() != original
        }
        employee._default_manager.filter(pk=row["pk"]).update(**{name: new for name, (_, new) in changes.items()})
        _record(employee, historical, row["pk"], changes)


def repair_credentials(apps, schema_editor) -> None:
    """Before `credential_dates_plausible`: clamp issue days into range and validity to at most the longest."""
    credential = apps.get_model("certifications", "Credential")
    historical = apps.get_model("certifications", "HistoricalCredential")
    fields = ["issued_on", "expires_on"]
    _repair_history(historical, fields)
    texts = _as_text(fields)
    # Years out of range first: after them every issue day is one the database can add the longest validity to.
    for suspect in (_out_of_range(fields), Q(expires_on__gt=F("issued_on") + LONGEST)):
        rows = credential._default_manager.filter(suspect).annotate(**texts).order_by("pk")
        for row in list(rows.values("pk", "employee_id", "certification_type_id", *texts)):
            _repair_card(credential, historical, row)


def _repair_card(credential: type[Model], historical: type[Model], row: dict) -> None:
    manager = credential._default_manager
    original = row["issued_on_text"]
    issued = clamp(original)
    if issued.isoformat() != original:
        # Two cards of the same person and type must not meet on the bound: move this one a day further in.
        step = datetime.timedelta(days=1 if issued == DB_EARLIEST else -1)
        same = manager.filter(employee_id=row["employee_id"], certification_type_id=row["certification_type_id"])
        while same.filter(issued_on=issued).exclude(pk=row["pk"]).exists():
            issued += step
    changes: Changes = {}
    if issued.isoformat() != original:
        changes["issued_on"] = (original, issued)
    if (expiry := row["expires_on_text"]) is not None:
        expires = min(max(clamp(expiry), issued), issued + LONGEST)
        if expires.isoformat() != expiry:
            changes["expires_on"] = (expiry, expires)
    if not changes:
        return
    notes = manager.filter(pk=row["pk"]).values_list("notes", flat=True).get()
    told = ", ".join(f"{name} {old} set to {new}" for name, (old, new) in changes.items())
    line = f"Dates repaired at upgrade ({BOUNDS}): {told}. Check the card and correct them."
    manager.filter(pk=row["pk"]).update(
        notes="\n".join(filter(None, [notes, line])), **{name: new for name, (_, new) in changes.items()}
    )
    _record(credential, historical, row["pk"], changes)


def report_repairs(apps, schema_editor, *, app_label: str, model_name: str, employee: str, what: str) -> None:
    """Once "Data problems" exists: one entry per person whose records `repair_*` changed (source "repair")."""
    historical = apps.get_model(app_label, f"Historical{model_name}")
    problem = apps.get_model("organisation", "DataProblem")
    reasons: dict[int, list[str]] = {}
    repairs = historical._default_manager.filter(history_change_reason__startswith=MARK).order_by("history_id")
    for employee_id, pk, reason in repairs.values_list(employee, "id", "history_change_reason"):
        line = f"{what} {pk}: {reason[len(MARK) :].strip()}"
        if line not in reasons.setdefault(employee_id, []):  # a past version said the same as the repair
            reasons[employee_id].append(line)
    for employee_id, lines in reasons.items():
        entry, _ = problem._default_manager.get_or_create(
            employee_id=employee_id, source="repair", defaults={"reason": REPAIR_REASON}
        )
        entry.reason = "\n".join([entry.reason, *lines])
        entry.save(update_fields=["reason"])


REPAIR_REASON = (
    f"Dates {BOUNDS} were set to the nearest plausible ones when the date constraints were added "
    "(the originals are in the record's history). Enter the right dates, then delete this entry."
)
