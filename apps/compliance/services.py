"""Writes of stored compliance results: full scans (as generations) and incremental recomputes.

A full scan creates a ComplianceRun, fills it chunk by chunk (each chunk replaced whole in its
own transaction, so a retried chunk is harmless), and `scan_finish` makes it current in one
transaction. Readers only read the current run, so a scan that dies halfway leaves the previous
results untouched. At most one scan runs at a time: a partial unique index allows one
"running" row, and a run stuck past COMPLIANCE_SCAN_STALE_MINUTES is declared failed.

Incremental recomputes write to the current run only. Whatever changed while a scan was under
way is re-evaluated by `scan_finish` just before the flip, under the same lock the incremental
recompute takes, so neither can bring back an answer older than the data.
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q

from apps.core import clock
from apps.core.bulk import insert_rows
from apps.organisation import problems
from apps.organisation.models import DataProblem, Employee

from . import engine, selectors
from .models import ComplianceRun, CredentialFinding, EmployeeStatus, PendingRecompute, RequirementStatus, Snapshot

logger = logging.getLogger(__name__)

_REQUIREMENT_COLUMNS = (
    "run_id",
    "employee_id",
    "requirement_id",
    "mandatory",
    "status",
    "reason",
    "credential_id",
    "expires_on",
    "due_on",
    "since",
    "renew_credential_id",
    "computed_at",
)
_EMPLOYEE_COLUMNS = ("run_id", "employee_id", "status", "next_expiry", "computed_at")
_FINDING_COLUMNS = ("run_id", "employee_id", "credential_id", "kind", "message")


class ScanAlreadyRunning(Exception):
    pass


def scan_start(*, as_of: datetime.date | None = None, coordinator: str = "") -> ComplianceRun:
    """Open a new run, or raise ScanAlreadyRunning if another (non-stale) scan holds the lock.

    The run `coordinator` opened and that is still running is returned again: that task was redelivered
    because its worker died, maybe before every chunk was queued.
    """
    _fail_stale_runs()
    if coordinator:
        resumed = ComplianceRun.objects.filter(state=ComplianceRun.State.RUNNING, coordinator=coordinator).first()
        if resumed is not None:
            return resumed
    try:
        with transaction.atomic():
            run = ComplianceRun.objects.create(
                as_of=as_of or clock.today(), state=ComplianceRun.State.RUNNING, coordinator=coordinator
            )
            # This scan reads everything after this point: full scans owed until now are settled by it.
            PendingRecompute.objects.filter(employee_id__isnull=True).delete()
            return run
    except IntegrityError as error:
        running = ComplianceRun.objects.filter(state=ComplianceRun.State.RUNNING).first()
        raise ScanAlreadyRunning(f"another compliance scan is running: {running}") from error


def _fail_stale_runs() -> None:
    limit = clock.now() - datetime.timedelta(minutes=settings.COMPLIANCE_SCAN_STALE_MINUTES)
    for run in ComplianceRun.objects.filter(state=ComplianceRun.State.RUNNING, started_at__lt=limit):
        scan_fail(run_id=run.id, error="abandoned: did not finish in time")


def scan_fail(*, run_id: int, error: str) -> None:
    """Mark a run failed and drop its partial results; the previous current run stays current."""
    with transaction.atomic():
        updated = ComplianceRun.objects.filter(id=run_id, state=ComplianceRun.State.RUNNING).update(
            state=ComplianceRun.State.FAILED, finished_at=clock.now(), error=error[:2000]
        )
        if updated:
            _delete_results(Q(run_id=run_id))
    logger.warning("compliance run %s failed: %s", run_id, error)


def scan_chunks(*, run: ComplianceRun, count: int | None = None) -> list[tuple[int, int]]:
    """Split employees into `count` id ranges [first, last] of about equal size (one query)."""
    count = count or settings.COMPLIANCE_SCAN_CHUNKS
    ids = list(Employee.objects.order_by("id").values_list("id", flat=True))
    if not ids:
        return []
    size = -(-len(ids) // count)
    chunks = [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]
    ComplianceRun.objects.filter(id=run.id).update(chunk_count=len(chunks))
    return chunks


def scan_chunk(*, run_id: int, first_id: int, last_id: int) -> int:
    """Evaluate employees with ids in [first_id, last_id] into the run; replaces the chunk whole if retried."""
    run = ComplianceRun.objects.get(id=run_id)
    if run.state != ComplianceRun.State.RUNNING:
        return 0  # a late retry of a run already finished or abandoned: nothing to do
    employees = Employee.objects.filter(id__gte=first_id, id__lte=last_id)
    skipped: dict[int, str] = {}
    results = _evaluate(employees, run.as_of, skipped)
    with transaction.atomic():
        _lock_chunk(run_id, first_id)
        _delete_results(Q(run_id=run_id, employee_id__gte=first_id, employee_id__lte=last_id))
        written = _write_results(run_id, results)
        _record_problems(employees, skipped)
        return written


def scan_finish(*, run_id: int) -> ComplianceRun:
    """Make a filled run current, record the day's snapshot and drop older generations. Idempotent."""
    with transaction.atomic():
        _lock_results()
        run = ComplianceRun.objects.select_for_update().get(id=run_id)
        if run.state != ComplianceRun.State.RUNNING:
            return run
        changed = employees_changed_since(run.started_at)
        if changed:
            employees = Employee.objects.filter(id__in=changed)
            skipped: dict[int, str] = {}
            _delete_results(Q(run_id=run.id, employee_id__in=changed))
            _write_results(run.id, _evaluate(employees, run.as_of, skipped))
            _record_problems(employees, skipped)
        run.employee_count = EmployeeStatus.objects.filter(run=run).count()
        run.result_count = RequirementStatus.objects.filter(run=run).count()
        run.state = ComplianceRun.State.COMPLETE
        run.finished_at = clock.now()
        run.save(update_fields=["employee_count", "result_count", "state", "finished_at"])
        snapshot_store(run=run)
        older = ComplianceRun.objects.exclude(id=run.id).filter(
            Q(state=ComplianceRun.State.COMPLETE) | Q(state=ComplianceRun.State.FAILED)
        )
        _delete_results(Q(run__in=older))
    return run


def scan_run(
    *, as_of: datetime.date | None = None, progress: Callable[[int, int], None] | None = None
) -> ComplianceRun:
    """The whole scan in this process, chunk after chunk (for the management command and the benchmark)."""
    run = scan_start(as_of=as_of)
    try:
        chunks = scan_chunks(run=run)
        for done, (first_id, last_id) in enumerate(chunks, start=1):
            scan_chunk(run_id=run.id, first_id=first_id, last_id=last_id)
            if progress:
                progress(done, len(chunks))
        return scan_finish(run_id=run.id)
    except BaseException as error:
        scan_fail(run_id=run.id, error=repr(error))
        raise


def recompute_employees(*, employee_ids: Iterable[int]) -> int:
    """Refresh these employees' stored results in the current run, as of today.

    Safe to repeat: each employee's rows are replaced whole in one transaction. Terminated
    or deleted employees end up with no rows.
    """
    ids = sorted(set(employee_ids))
    if not ids:
        return 0
    with transaction.atomic():
        _lock_results()
        # Only debts committed before the evaluation below reads the data are settled by it.
        owed = list(PendingRecompute.objects.filter(employee_id__in=ids).values_list("id", flat=True))
        PendingRecompute.objects.filter(id__in=owed).delete()
        current = selectors.current_run()
        if current is None:
            return 0  # nothing stored yet: the first full scan will compute everyone
        employees = Employee.objects.filter(id__in=ids)
        skipped: dict[int, str] = {}
        _delete_results(Q(run_id=current.id, employee_id__in=ids))
        written = _write_results(current.id, _evaluate(employees, clock.today(), skipped))
        _record_problems(employees, skipped)
        return written


def _lock_results() -> None:
    """Serialise incremental writes with a scan's flip (PostgreSQL; SQLite serialises writers anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_RESULTS_LOCK_KEY])


_RESULTS_LOCK_KEY = 0x63726564  # "cred"


def _lock_chunk(run_id: int, first_id: int) -> None:
    """Two copies of one chunk (a redelivered task while the first still runs) take turns, never interleave."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [run_id % 2**31, first_id % 2**31])


def employees_changed_since(moment: datetime.datetime) -> list[int]:
    """Employees whose record, credentials or applicable requirements changed after `moment`."""
    from apps.certifications.models import Credential, Requirement

    ids = set(Employee.history.filter(history_date__gte=moment).values_list("id", flat=True))
    ids |= set(Credential.history.filter(history_date__gte=moment).values_list("employee_id", flat=True))
    for role_id, department_id in Requirement.history.filter(history_date__gte=moment).values_list(
        "role_id", "department_id"
    ):
        ids |= set(employee_ids_for_requirement(role_id=role_id, department_id=department_id))
    return sorted(ids)


def recomputes_owe(*, employee_ids: list[int]) -> None:
    """Write down that these employees are owed a recompute, in the caller's transaction, so the debt commits or
    rolls back with the change; the task queued on commit settles it at once, and if the broker is down the sweep
    does later (tasks.queue_recompute, tasks.sweep_recomputes)."""
    PendingRecompute.objects.bulk_create([PendingRecompute(employee_id=pk) for pk in employee_ids], batch_size=5000)


def full_scan_owe() -> None:
    PendingRecompute.objects.create(employee_id=None)


def full_scan_owed() -> bool:
    """The scan clears the full-scan rows when it starts."""
    return PendingRecompute.objects.filter(employee_id__isnull=True).exists()


def recomputes_settle(*, limit: int = 20_000) -> list[int]:
    """Recompute the first `limit` employees owed one (recompute_employees clears their debt); returns their ids."""
    owed = (
        PendingRecompute.objects.filter(employee_id__isnull=False)
        .order_by("employee_id")
        .values_list("employee_id", flat=True)
        .distinct()[:limit]
    )
    ids = [pk for pk in owed if pk is not None]  # filtered above already; the column's type cannot know
    recompute_employees(employee_ids=ids)
    return ids


def employee_ids_for_requirement(*, role_id: int, department_id: int | None) -> list[int]:
    employees = Employee.objects.filter(role_id=role_id)
    if department_id is not None:
        employees = employees.filter(department_id=department_id)
    return list(employees.values_list("id", flat=True))


def _evaluate(employees, day: datetime.date, skipped: dict[int, str]) -> list[engine.EmployeeResult]:
    """Everyone the rules can evaluate; in `skipped`, people the engine fails on and people whose stored rows
    cannot even be read (problems.isolate)."""
    return problems.isolate(
        employees,
        lambda people: [result for _, result in selectors.evaluate(people, day, skipped=skipped)],
        skipped,
    )


def _record_problems(employees, skipped: dict[int, str]) -> None:
    """HR's list follows the scan: the people skipped now are on it, the others evaluated cleanly are off it."""
    problems.problems_clear(
        source=DataProblem.Source.SCAN, employee_ids=employees.exclude(id__in=list(skipped)).values("id")
    )
    problems.problems_record(source=DataProblem.Source.SCAN, problems=skipped)


def _delete_results(condition: Q) -> None:
    for model in (RequirementStatus, EmployeeStatus, CredentialFinding):
        model.objects.filter(condition)._raw_delete(model.objects.db)


def _write_results(run_id: int, results: list[engine.EmployeeResult]) -> int:
    now = clock.now()
    requirement_rows = [
        (
            run_id,
            result.employee_id,
            r.requirement_id,
            r.mandatory,
            r.status.value,
            r.reason,
            r.credential_id,
            r.expires_on,
            r.due_on,
            r.since,
            r.renew_credential_id,
            now,
        )
        for result in results
        for r in result.requirements
    ]
    employee_rows = [(run_id, r.employee_id, r.status.value, r.next_expiry, now) for r in results]
    finding_rows = [
        (run_id, result.employee_id, f.credential_id, f.kind, f.message) for result in results for f in result.findings
    ]
    insert_rows(RequirementStatus, _REQUIREMENT_COLUMNS, requirement_rows)
    insert_rows(EmployeeStatus, _EMPLOYEE_COLUMNS, employee_rows)
    insert_rows(CredentialFinding, _FINDING_COLUMNS, finding_rows)
    return len(requirement_rows)


def snapshot_store(*, run: ComplianceRun) -> None:
    """Counts per organisation, department and role (employees' overall status) and per certification
    type (requirement results naming it), for the run's day. A second run the same day replaces them."""
    employee_statuses = EmployeeStatus.objects.filter(run=run)
    grouped = {
        Snapshot.Dimension.ORGANISATION: _counts(employee_statuses, None),
        Snapshot.Dimension.DEPARTMENT: _counts(employee_statuses, "employee__department_id"),
        Snapshot.Dimension.ROLE: _counts(employee_statuses, "employee__role_id"),
        Snapshot.Dimension.CERTIFICATION: _counts(RequirementStatus.objects.filter(run=run), "requirement__any_of"),
    }
    snapshots = [
        Snapshot(day=run.as_of, dimension=dimension, key=key, total=sum(counts.values()), counts=dict(counts))
        for dimension, by_key in grouped.items()
        for key, counts in by_key.items()
    ]
    Snapshot.objects.filter(day=run.as_of).delete()
    Snapshot.objects.bulk_create(snapshots)


def _counts(queryset, key_field: str | None) -> dict[int, Counter]:
    """{key: Counter(status -> n)} in one GROUP BY query; key 0 when not grouped."""
    fields = [key_field, "status"] if key_field else ["status"]
    by_key: dict[int, Counter] = {}
    for row in queryset.values(*fields).annotate(n=Count("id")).order_by():
        key = row[key_field] if key_field else 0
        if key is not None:
            by_key.setdefault(key, Counter())[row["status"]] = row["n"]
    return by_key
