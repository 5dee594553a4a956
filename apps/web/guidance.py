"""What a staff member should do next about one requirement, in plain words."""

from django.utils.formats import date_format

from apps.certifications.models import Requirement
from apps.compliance.engine import Status

from .selectors.person import RequirementLine


def _today(line: RequirementLine) -> Requirement:
    """Staff are guided about today, whose answers carry today's requirements (a past day's carry labels)."""
    assert isinstance(line.requirement, Requirement)
    return line.requirement


def next_step(line: RequirementLine) -> str:
    result = line.result
    wanted = " or ".join(sorted(t.code for t in _today(line).any_of.all()))
    match result.status:
        case Status.COMPLIANT:
            if result.expires_on:
                return f"Nothing to do now. Renew before {date_format(result.expires_on)}."
            return "Nothing to do."
        case Status.EXPIRING:
            assert result.expires_on is not None  # the engine dates every expiring row
            return (
                f"Book a renewal course now and upload your new card before {date_format(result.expires_on)}, "
                "when this one stops counting."
            )
        case Status.NOT_YET_DUE if line.awaiting_hr:
            return "HR is checking the card you uploaded. Nothing to do unless they contact you."
        case Status.NOT_YET_DUE if result.credential_id:
            assert result.due_on is not None  # the engine dates every not-yet-due row
            return (
                f"Renew the card this one depends on (see why above) and upload it by {date_format(result.due_on)}: "
                "until then this certification does not count."
            )
        case Status.NOT_YET_DUE:
            assert result.due_on is not None
            return f"Get {indefinite_article(wanted)} {wanted} card and upload it by {date_format(result.due_on)}."
        case Status.PENDING_VERIFICATION:
            return "HR is checking the card you uploaded. Nothing to do unless they contact you."
        case Status.PREREQUISITE_LAPSED:
            return (
                "Renew the card this one depends on (see why above) and upload it: "
                "until then this certification does not count."
            )
        case Status.EXPIRED:
            return (
                f"Renew your {wanted} as soon as possible and upload the new card. "
                "Tell your manager: you may not be cleared for duties that need it."
            )
        case Status.MISSING:
            return (
                f"Get {indefinite_article(wanted)} {wanted} card as soon as possible and upload it; "
                "tell your manager. It is overdue."
            )
    return ""


def renewal_help(line: RequirementLine) -> list[tuple[str, str, str]]:
    """(code, guidance, booking URL) for each certification that would satisfy the requirement."""
    return [
        (t.code, t.renewal_guidance, t.renewal_url)
        for t in _today(line).any_of.all()
        if t.renewal_guidance or t.renewal_url
    ]


# Letters whose names start with a vowel sound: "an ACLS" (ay), "an NRP" (en), "an SLS" (ess).
_VOWEL_SOUND_LETTERS = set("AEFHILMNORSX")


def indefinite_article(words: str) -> str:
    """'a' or 'an' before `words`. An all-capital first word is read letter by letter (BLS "bee", ACLS "ay");
    the one said as a word, PALS, starts with a consonant either way."""
    first = words.split(" ", 1)[0] if words else ""
    if not first:
        return "a"
    if first.isupper() and len(first) > 1:
        return "an" if first[0] in _VOWEL_SOUND_LETTERS else "a"
    return "an" if first[0].lower() in "aeiou" else "a"
