"""Sign-up, verification, approval, password resets and a user's own tokens.

The doors anyone may knock on (sign-up, verifying, resetting) answer every caller alike,
whatever token it sends; the rest is the caller's own, or the platform admins'."""

import pytest
from sqlalchemy import select

from marketplace.db import db
from marketplace.identity.models import ApiToken
from tests.accounts.kit import mails_to, signup_body, token_in
from tests.authorization.matrix import (
    CALLERS,
    CREATED,
    FORBIDDEN,
    NO_CONTENT,
    OK,
    Matrix,
    Row,
    World,
    by_endpoint,
    conflict,
    expect_status,
    field_is,
    missing,
    table,
)
from tests.cast import PASSWORD
from tests.support import ApiClient, Response

pytestmark = pytest.mark.slow

ACCEPTED = (202, None)
NEW_ADDRESS = "newcomer@example.com"


def everyone(want) -> dict:
    """A public door: every caller alike, a token or none."""
    return dict.fromkeys(CALLERS, want)


def own_tokens(matrix: Matrix, caller: str, answer: Response) -> str | None:
    with matrix.app.app_context():
        want = list(
            db.session.scalars(
                select(ApiToken.id)
                .where(ApiToken.user_id == matrix.world.user(caller))
                .order_by(ApiToken.id)
            )
        )
    got = [token["id"] for token in answer.body]
    return None if got == want else f"tokens {got}, expected {want}"


def pending_signup(api: ApiClient, world: World) -> None:
    """A client signed up while the platform asked for approval: world.signup."""
    config = api.client.application.config
    config["SIGNUP_APPROVAL"] = "clients"
    try:
        body = expect_status(api.post("/signup", json=signup_body(email=NEW_ADDRESS)), 201)
    finally:
        config["SIGNUP_APPROVAL"] = "none"
    world.signup = body["signup"]["id"]


def unverified_signup(api: ApiClient, world: World) -> None:
    """A team signed up, its link unused: world.verify_token."""
    expect_status(api.post("/signup", json=signup_body("team", NEW_ADDRESS)), 201)
    [mail] = mails_to(api.client.application, NEW_ADDRESS)
    world.verify_token = token_in(mail.body)


def reset_asked(api: ApiClient, world: World) -> None:
    """Li asked for a reset link: world.reset_token."""
    expect_status(api.post("/password-resets", json={"email": "li@example.com"}), 202)
    [mail] = mails_to(api.client.application, "li@example.com")
    world.reset_token = token_in(mail.body)


def li_token(api: ApiClient, world: World) -> None:
    """Li made a token for a script: world.li_token."""
    made = expect_status(api.post("/me/tokens", world.tokens["li"], {"name": "script"}), 201)
    world.li_token = made["id"]


READS = [
    Row("GET", "/signup", table(OK), check=field_is("email_verified", lambda w, c: True)),
    Row("GET", "/signups", table(FORBIDDEN, admin=OK)),
    Row("GET", "/signups?status=pending", table(FORBIDDEN, admin=OK)),
    Row("GET", "/me/tokens", table(OK), check=own_tokens),
]

WRITES = [
    Row("POST", "/signup", everyone(CREATED), body=signup_body(email=NEW_ADDRESS)),
    Row(
        "POST",
        "/signup/verify",
        everyone(OK),
        body=lambda w, c: {"token": w.verify_token},
        prepare=unverified_signup,
    ),
    # The cast were made by an operator: verified already.
    Row("POST", "/signup/verification", table(conflict("already_verified"))),
    Row(
        "POST",
        "/signups/{signup}/approve",
        table(FORBIDDEN, admin=OK),
        body={},
        prepare=pending_signup,
    ),
    Row(
        "POST",
        "/signups/{signup}/refuse",
        table(FORBIDDEN, admin=OK),
        body={"reason": "Not a company we can confirm."},
        prepare=pending_signup,
    ),
    Row("POST", "/password-resets", everyone(ACCEPTED), body={"email": "li@example.com"}),
    Row(
        "POST",
        "/password-resets/complete",
        everyone(NO_CONTENT),
        body=lambda w, c: {"token": w.reset_token, "password": "a new horse battery"},
        prepare=reset_asked,
    ),
    Row(
        "POST",
        "/me/password",
        table(NO_CONTENT),
        body={"current_password": PASSWORD, "new_password": "a new horse battery"},
    ),
    Row("POST", "/me/tokens", table(CREATED), body={"name": "script"}),
    # Everyone signed in chooses her own language; nobody another's.
    Row("PUT", "/me/locale", table(OK), body={"locale": "en"}),
    Row(
        "DELETE",
        "/me/tokens/{li_token}",
        table(missing("token"), li=NO_CONTENT),
        prepare=li_token,
    ),
]


@pytest.mark.parametrize("rows", by_endpoint(WRITES))
def test_writes(app, api, world, rows):
    """Every write endpoint, by every caller, each call on a fresh world."""
    [prepare] = {row.prepare for row in rows}
    matrix = Matrix(app, api, world, prepare=prepare)
    wrong = matrix.run_rows(rows)
    assert not wrong, "\n".join(wrong)
