"""One pass of chasing receivables, as the daily job and `marketplace receivables chase`
run it."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from marketplace.identity.models import CreditHold
from marketplace.receivables.dunning import take_due_steps
from marketplace.receivables.holds import lift_paid_holds
from marketplace.receivables.models import DunningAction


@dataclass
class Chase:
    lifted: list[CreditHold]
    steps: list[DunningAction]


def chase_receivables(session: Session, *, today: date) -> Chase:
    """Lift the holds of clients that no longer owe anything overdue, then take every
    dunning step due `today`, each once. Idempotent: a second pass the same day does
    nothing."""
    lifted = lift_paid_holds(session, today=today)
    return Chase(lifted=lifted, steps=take_due_steps(session, today=today))
