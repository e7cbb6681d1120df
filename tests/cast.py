"""The people of the story, and their rivals, with known tokens."""

from dataclasses import dataclass, field

import pytest

from marketplace.db import unit_of_work
from marketplace.identity import service as identity
from marketplace.identity.models import CreditLine, PartyKind, Role

# label -> (party label, role)
PEOPLE = {
    "admin": ("platform", Role.PLATFORM_ADMIN),
    "client": ("horizon", Role.CLIENT_ADMIN),
    "owner": ("lotus", Role.TEAM_OWNER),
    "reviewer": ("lotus", Role.REVIEWER),
    "li": ("lotus", Role.ANNOTATOR),
    "wang": ("lotus", Role.ANNOTATOR),
    "zhang": ("lotus", Role.ANNOTATOR),
    # Another client and another team, who must never see the story's objects.
    "rival_client": ("acme", Role.CLIENT_ADMIN),
    "rival_owner": ("tiger", Role.TEAM_OWNER),
    "rival_reviewer": ("tiger", Role.REVIEWER),
    "rival_annotator": ("tiger", Role.ANNOTATOR),
}
PARTIES = {
    "platform": PartyKind.PLATFORM,
    "horizon": PartyKind.CLIENT,
    "lotus": PartyKind.TEAM,
    "acme": PartyKind.CLIENT,
    "tiger": PartyKind.TEAM,
}
PASSWORD = "correct horse battery"
# The story's clients are trusted with pay-when-paid orders: a credit line in each
# currency the tests post in, wide enough never to hold a drop. Funded orders are
# tested with clients of their own (tests/payments/funding/).
CREDIT_LINES = {"CNY": 10**12, "USD": 10**12, "JPY": 10**12}


@dataclass
class Cast:
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    party_ids: dict[str, int] = field(default_factory=dict)

    def __getattr__(self, label: str) -> str:
        """cast.owner is the owner's token."""
        try:
            return self.tokens[label]
        except KeyError as exc:
            raise AttributeError(label) from exc


def seed_cast(app) -> Cast:
    cast = Cast()
    with app.app_context(), unit_of_work() as session:
        parties = {}
        for label, kind in PARTIES.items():
            parties[label] = (
                identity.platform_party(session)
                if kind == PartyKind.PLATFORM
                else identity.create_party(
                    session, kind=kind, name=label.title(), bank_account=f"BANK-{label.upper()}"
                )
            )
            cast.party_ids[label] = parties[label].id
            if kind == PartyKind.CLIENT:
                grant_credit_lines(session, parties[label].id)
        for label, (party, role) in PEOPLE.items():
            user = identity.create_user(
                session,
                email=f"{label}@example.com",
                name=label.title(),
                password=PASSWORD,
                bank_account=f"BANK-{label.upper()}",
            )
            identity.add_membership(session, user=user, party=parties[party], role=role)
            cast.tokens[label] = identity.issue_token(session, user, token=f"token-{label}")
            cast.user_ids[label] = user.id
    return cast


def grant_credit_lines(session, party_id: int) -> None:
    session.add_all(
        CreditLine(party_id=party_id, currency=currency, limit_minor=limit, reason="test cast")
        for currency, limit in CREDIT_LINES.items()
    )


@pytest.fixture
def cast(app) -> Cast:
    return seed_cast(app)
