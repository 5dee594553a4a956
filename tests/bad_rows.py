"""Rows no validator would let in, written straight into the database: how batch jobs meet legacy data.

The plausible-date CheckConstraints refuse them, so the test switches those checks off for its own
transaction (PostgreSQL: dropped inside the test's transaction and rolled back with it; SQLite: the
connection's ignore_check_constraints pragma, switched back on after).
"""

import contextlib

from django.db import connection

CONSTRAINTS = {
    "organisation_employee": ["employee_dates_plausible"],
    "certifications_credential": ["credential_dates_plausible"],
}


@contextlib.contextmanager
def unchecked():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending deferred checks may block ALTER TABLE
            for table, names in CONSTRAINTS.items():
                for name in names:
                    cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            yield
        else:
            cursor.execute("PRAGMA ignore_check_constraints = ON")
            try:
                yield
            finally:
                cursor.execute("PRAGMA ignore_check_constraints = OFF")


def unreadable_expiry(credential) -> None:
    """An expiry PostgreSQL holds and Python cannot ('infinity'): reading the row raises DataError.
    PostgreSQL only (use the `postgres` fixture), inside `unchecked()`."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE certifications_credential SET expires_on = 'infinity' WHERE id = %s", [credential.pk])
