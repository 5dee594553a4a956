from django import template
from django.utils import formats

from apps.compliance.engine import COMPLIANT_STATUSES, Status
from apps.core import dates

from .. import guidance
from ..cards import CardRow, CardState

register = template.Library()

# Status is said in words everywhere; the class only adds an icon-like marker and colour on top.
_TONES = {
    Status.COMPLIANT: "ok",
    Status.EXPIRING: "warn",
    Status.NOT_YET_DUE: "info",
    Status.PENDING_VERIFICATION: "info",
    Status.PREREQUISITE_LAPSED: "bad",
    Status.EXPIRED: "bad",
    Status.MISSING: "bad",
}


def _status(value) -> Status | None:
    try:
        return Status(value)
    except ValueError:
        return None


def tone(status: Status) -> str:
    """ok, warn, bad or info: the colour a status is shown in, next to its name."""
    return _TONES[status]


@register.inclusion_tag("web/_status.html")
def status_badge(value):
    status = _status(value)
    return {
        "label": status.label if status else "Not yet checked",
        "tone": _TONES[status] if status else "info",
        "compliant": status in COMPLIANT_STATUSES if status else None,
    }


@register.filter
def requirement_label(requirement) -> str:
    """'BLS or CPR', marked when only recommended. A Requirement, or a past day's RequirementAsOf (its set then)."""
    if requirement is None:
        return ""
    as_of = getattr(requirement, "codes", None)
    codes = " or ".join(as_of if as_of is not None else sorted(t.code for t in requirement.any_of.all()))
    return codes if requirement.mandatory else f"{codes} (recommended)"


@register.filter
def percent(rate) -> str:
    # number_format cuts the decimals off; round first so 2 of 3 reads 66.7%, not 66.6%.
    return "—" if rate is None else f"{formats.number_format(round(rate * 100, 1), 1)}%"


@register.filter
def duration_words(delta) -> str:
    """A timedelta as people say it: '1 hour', '1 hour 30 minutes', '45 minutes'."""
    minutes = max(1, round(delta.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


@register.filter
def next_step(line) -> str:
    return guidance.next_step(line)


@register.filter
def renewal_help(line) -> list:
    return guidance.renewal_help(line)


_CARD_TONES = {
    CardState.CURRENT: "ok",
    CardState.EXPIRED: "bad",
    CardState.SUPERSEDED: "muted",
    CardState.NOT_YET_VALID: "info",
    CardState.REJECTED: "bad",
}


@register.inclusion_tag("web/_card_state.html")
def card_state(row: CardRow):
    return {"row": row, "tone": _CARD_TONES[row.state]}


@register.filter
def with_article(words) -> str:
    """'a BLS', 'an ACLS', 'an NRP', 'a PALS', 'an hour': initialisms by how their first letter is said."""
    return f"{guidance.indefinite_article(str(words))} {words}"


@register.filter
def local_dates(text) -> str:
    """The engine's reasons name days as YYYY-MM-DD; pages write them in the organisation's date format."""
    return dates.local_dates(text)


@register.filter
def number(value) -> str:
    """A count with the locale's thousands separator: 3,748."""
    return formats.number_format(value, force_grouping=True)


@register.filter
def get_item(mapping, key):
    return mapping.get(key)
