"""Dates as people read them: the organisation's one date format (DATE_FORMAT for its locale), on pages and in
emails alike."""

import datetime
import re

from django.utils import formats

_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def local_dates(text) -> str:
    """The engine's reasons name days as YYYY-MM-DD; people read them in the organisation's date format."""

    def local(match: re.Match) -> str:
        try:
            day = datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            return match.group(0)
        return formats.date_format(day)

    return _ISO_DATE.sub(local, str(text))
