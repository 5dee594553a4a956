"""CSV downloads of the lists, streamed row by row so a 10,000-person export never sits in memory."""

import csv
from collections.abc import Iterable, Sequence

from django.http import StreamingHttpResponse

from apps.core import clock

# A cell starting with one of these is a formula to Excel or LibreOffice ("CSV injection"):
# such cells get a leading apostrophe so a spreadsheet shows them as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """The file-like object csv.writer needs; each write hands the line straight to the response."""

    def write(self, value):
        return value


def csv_response(name: str, header: Sequence[str], rows: Iterable[Sequence]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([neutralise(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{clock.today():%Y-%m-%d}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
