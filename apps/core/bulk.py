"""Inserting many ready-made rows fast: COPY on PostgreSQL, one executemany elsewhere.

For the tables that take hundreds of thousands of rows at once (scan results, demo data).
bulk_create spends several times longer preparing each value than the database spends storing
it. Rows are tuples in the order of `columns` (field names or attnames such as "employee_id").
Sends no signals and records no history: callers that need either must see to it.
"""

from collections.abc import Iterable

from django.db import connection, models


def insert_rows(model: type[models.Model], columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    fields = [_concrete(model, name) for name in columns]
    names = ", ".join(quote(field.column or "") for field in fields)  # _concrete: never empty
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        # SQLite and others store aware datetimes as naive UTC text: adapt them as Django would.
        moments = [i for i, field in enumerate(fields) if isinstance(field, models.DateTimeField)]
        adapt = connection.ops.adapt_datetimefield_value
        if moments:
            rows = (tuple(adapt(v) if i in moments else v for i, v in enumerate(row)) for row in rows)
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(fields))})", list(rows))


def _concrete(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column, f"{name} is not a concrete column of {model.__name__}"
    return field
