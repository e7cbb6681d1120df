"""Worlds for receivables tests: a dunning schedule in force, a clock standing on an
invoice's day, and the daily chasing pass run as the scheduler runs it.

The `app` fixture empties every table after each test, the seeded schedule included,
so a test puts its schedule in force itself (`use_schedule`).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from marketplace.db import db, unit_of_work
from marketplace.identity import service as identity
from marketplace.identity.models import Party, Role, User
from marketplace.receivables.chase import chase_receivables
from marketplace.receivables.days import business_today
from tests.cast import PASSWORD
from tests.support import ApiClient, FrozenClock

# The schedule the migration seeds: days from the due date, and what is done that day.
SCHEDULE = [
    {"offset_days": -3, "action": "reminder"},
    {"offset_days": 1, "action": "notice"},
    {"offset_days": 7, "action": "notice"},
    {"offset_days": 14, "action": "notice"},
    {"offset_days": 30, "action": "escalation"},
    {"offset_days": 45, "action": "credit_hold"},
]
# The scheduler's daily chase runs at 09:00 business time (marketplace/scheduler.py).
CHASE_TIME = "09:00:00+08:00"


def use_schedule(api: ApiClient, admin_token: str, steps: list[dict] = SCHEDULE) -> list[dict]:
    """Put `steps` in force as a platform admin would; answers the steps with their ids."""
    answer = api.put("/dunning/steps", admin_token, {"steps": steps})
    assert answer.status == 200, answer.body
    return answer.body


def due_day(invoice: dict) -> date:
    return date.fromisoformat(invoice["due_on"])


def day_of_step(invoice: dict, offset_days: int) -> date:
    return due_day(invoice) + timedelta(days=offset_days)


def stand_on(frozen_clock: FrozenClock, invoice: dict, offset_days: int) -> date:
    """Stand at the daily chase's moment, `offset_days` after the invoice's due day (in
    Shanghai); answers that business day."""
    day = day_of_step(invoice, offset_days)
    frozen_clock.stand_at(f"{day.isoformat()}T{CHASE_TIME}")
    return day


@dataclass(frozen=True)
class Taken:
    """One step a pass took on one invoice."""

    invoice_id: int
    offset_days: int
    action: str
    outcome: str


@dataclass(frozen=True)
class Chased:
    """What one pass did: the steps it took, and the clients whose holds it lifted."""

    steps: list[Taken]
    lifted: list[int]


def chase(app) -> Chased:
    """One chasing pass, as the daily job runs it: its own unit of work, on the business
    day the clock stands on."""
    with app.app_context(), unit_of_work() as session:
        done = chase_receivables(session, today=business_today(app.config["BUSINESS_TIMEZONE"]))
        return Chased(
            steps=[
                Taken(a.invoice_id, a.step.offset_days, str(a.step.action), str(a.outcome))
                for a in done.steps
            ],
            lifted=[hold.party_id for hold in done.lifted],
        )


def add_member(
    app, party_id: int, role: Role, label: str, *, locale: str | None = None
) -> tuple[int, str]:
    """A new user `label`@example.com with `role` in the party (and a CLDR `locale`);
    answers the user's id and bearer token."""
    with app.app_context(), unit_of_work() as session:
        user = identity.create_user(
            session, email=f"{label}@example.com", name=label.title(), password=PASSWORD
        )
        if locale is not None:
            user.locale = locale
        identity.add_membership(session, user=user, party=session.get(Party, party_id), role=role)
        return user.id, identity.issue_token(session, user, token=f"token-{label}")


def set_locale(app, user_id: int, locale: str) -> None:
    with app.app_context(), unit_of_work() as session:
        session.get(User, user_id).locale = locale


def count(app, model, *where) -> int:
    """How many rows of `model` match `where`."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))
