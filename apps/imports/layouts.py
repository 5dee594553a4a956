"""The column layouts of the staff and credential files: one definition for import and export alike,
so an exported file imports unchanged."""

from .parsing import Column

STAFF_COLUMNS = (
    Column("employee_number", required=True, help="The key: a row updates the employee with this number."),
    Column("first_name", required=True),
    Column("last_name", required=True),
    Column("email", help="Where renewal reminders go."),
    Column("username", help="The login of this person, if they have one (it must exist already)."),
    Column("role", required=True, help="Role code, e.g. registered-nurse."),
    Column("department", required=True, help="Department code, e.g. ED."),
    Column(
        "manager",
        help="Login(s) of the department's manager(s), separated by ';'. They are added to the department's "
        "managers (never removed: do that in the admin).",
    ),
    Column("hired_on", required=True, is_date=True),
    Column(
        "assigned_on",
        is_date=True,
        help="Start of the current role and department. Blank means the hire date for a new employee; "
        "required when the role or department changes.",
    ),
    Column("terminated_on", is_date=True, help="Last day of employment, if they have left."),
)

CREDENTIAL_COLUMNS = (
    Column("employee_number", required=True, help="The employee must exist (import staff first)."),
    Column("certification", required=True, help="Certification code, e.g. BLS."),
    Column("issued_on", required=True, is_date=True),
    Column("expires_on", is_date=True, help="As printed on the card. Blank: proposed from the certification."),
    Column("issuer", help="e.g. American Heart Association."),
    Column(
        "card_number",
        help="When given, it identifies the card: a row with a known card number corrects that card's dates.",
    ),
    Column(
        "verification",
        help="verified, pending or rejected. Blank: verified for a new card (HR imports count as verified).",
    ),
    Column("rejection_reason", help="Only with verification 'rejected'; the employee sees it."),
    Column("notes"),
)

FINDING_COLUMNS = (
    "as_of",
    "employee_number",
    "last_name",
    "first_name",
    "department",
    "role",
    "requirement",
    "satisfied_by",
    "mandatory",
    "status",
    "reason",
    "credential",
    "credential_issued_on",
    "expires_on",
    "due_on",
    "since",
)

BLANK_CELLS_RULE = (
    "A blank cell, or a column left out, never erases anything: it keeps what is stored (a new row gets the "
    "default). Clear values in the admin."
)
