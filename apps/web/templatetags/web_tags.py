from django import template

from apps.compliance.engine import COMPLIANT_STATUSES, Status

from .. import guidance

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
    """'BLS or CPR', marked when only recommended."""
    if requirement is None:
        return ""
    codes = " or ".join(sorted(t.code for t in requirement.any_of.all()))
    return codes if requirement.mandatory else f"{codes} (recommended)"


@register.filter
def percent(rate) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


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
