"""Where each of a person's cards stands on a day, for the card tables: current, expired, superseded, not yet valid.

Only the table says this; whether a requirement is met is the compliance engine's answer. A card is superseded
once a newer verified card of the same certification exists: a newer card still waiting for HR does not replace
it yet, and a rejected one never does.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from apps.certifications.models import Credential


class CardState(StrEnum):
    CURRENT = "current"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    NOT_YET_VALID = "not yet valid"
    REJECTED = "rejected"


@dataclass(frozen=True)
class CardRow:
    credential: Credential
    state: CardState
    superseded_by: Credential | None = None

    @property
    def is_old(self) -> bool:
        return self.state in (CardState.EXPIRED, CardState.SUPERSEDED)


def card_rows(credentials: Iterable[Credential], day: datetime.date) -> list[CardRow]:
    """The cards in the order given, each with its state on `day`."""
    credentials = list(credentials)
    newest_verified: dict[int, Credential] = {}
    for card in credentials:
        if card.verification != Credential.Verification.VERIFIED or card.issued_on > day:
            continue
        held = newest_verified.get(card.certification_type_id)
        if held is None or card.issued_on > held.issued_on:
            newest_verified[card.certification_type_id] = card
    return [_row(card, newest_verified.get(card.certification_type_id), day) for card in credentials]


def _row(card: Credential, newest: Credential | None, day: datetime.date) -> CardRow:
    if card.verification == Credential.Verification.REJECTED:
        return CardRow(card, CardState.REJECTED)
    if card.issued_on > day:
        return CardRow(card, CardState.NOT_YET_VALID)
    if newest is not None and newest.issued_on > card.issued_on:
        return CardRow(card, CardState.SUPERSEDED, superseded_by=newest)
    if card.expires_on is not None and card.expires_on < day:
        return CardRow(card, CardState.EXPIRED)
    return CardRow(card, CardState.CURRENT)
