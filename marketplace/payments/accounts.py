"""The ledger accounts a client's money moves through: its receivable and its credit, and
the platform's bank."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.identity.service import platform_party
from marketplace.ledger import Account, AccountKind


@dataclass(frozen=True)
class ClientBooks:
    receivable: Account  # what it owes for issued invoices
    credit: Account  # what it sent that no invoice has taken yet


def client_books(session: Session, client_party_id: int, currency: str) -> ClientBooks:
    """The client's receivable and credit accounts in the currency, opened on first use."""
    return ClientBooks(
        *(
            ledger.account(session, party_id=client_party_id, kind=kind, currency=currency)
            for kind in (AccountKind.RECEIVABLE, AccountKind.CREDIT)
        )
    )


def platform_bank(session: Session, currency: str) -> Account:
    """Where clients' money arrives and from where it goes back."""
    return ledger.account(
        session, party_id=platform_party(session).id, kind=AccountKind.BANK, currency=currency
    )
