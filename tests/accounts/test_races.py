"""Two registrations of one new address at once: the second is refused 409 `email_taken`,
as if it had come later, not with a 500. (PostgreSQL only: SQLite runs one writer at a
time, so its second registration always sees the first.)"""

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.db import db
from marketplace.errors import Conflict
from marketplace.identity import service as identity
from marketplace.identity.models import User
from tests.support import wait_until_a_session_waits_for_a_lock

pytestmark = [pytest.mark.slow, pytest.mark.only_engine("postgresql")]

MEI = "mei@example.com"


def register(session: Session) -> User:
    return identity.create_user(session, email=MEI, name="Mei", password="long enough")


def test_the_second_of_two_simultaneous_registrations_is_refused_409(app):
    with app.app_context():
        engine = db.engine
    refusal: list[Conflict] = []
    with Session(engine) as first, Session(engine) as second:
        register(first)  # inserted, not committed: the second cannot see it yet

        def second_registration() -> None:
            try:
                register(second)
            except Conflict as error:
                refusal.append(error)

        racer = threading.Thread(target=second_registration)
        racer.start()
        # Its check found no Mei; its insert now waits for the first to end.
        wait_until_a_session_waits_for_a_lock(engine)
        first.commit()
        racer.join()
        assert [error.code for error in refusal] == ["email_taken"]
        # The savepoint kept the second's unit of work usable, to report the refusal.
        assert second.scalar(select(func.count()).where(User.email == MEI)) == 1
