"""Sign-up, verification, approval, password resets and a user's own tokens: refused,
and nothing written. (A wrong password at sign-in is the one refusal that writes: it
counts towards the lock, tests/accounts/test_lockout.py.)"""

import json

import pytest

from tests.accounts.kit import signup_body
from tests.bad_input.cases import HUGE_ID, TEXT, Tables, case
from tests.cast import PASSWORD

pytestmark = pytest.mark.slow

SIGNUP = "anonymous POST /signup"
VERIFY = "anonymous POST /signup/verify"
RESET = "anonymous POST /password-resets"
COMPLETE = "anonymous POST /password-resets/complete"
CHANGE = "li POST /me/password"
TOKENS = "li POST /me/tokens"
LANGUAGE = "li PUT /me/locale"
NEW_PASSWORD = "a new horse battery"


def signup_case(case_id, field, **changes):
    body = {k: v for k, v in (signup_body() | changes).items() if v is not ...}
    return case(case_id, SIGNUP, 422, "validation_failed", body, field=field)


ACCOUNTS_CASES = [
    signup_case("sign-up without e-mail", "email", email=...),
    signup_case("sign-up e-mail not an address", "email", email="ada at horizon"),
    signup_case("sign-up e-mail a number", "email", email=5),
    signup_case("sign-up kind platform", "kind", kind="platform"),
    signup_case("sign-up without kind", "kind", kind=...),
    signup_case("sign-up short password", "password", password="short"),
    signup_case("sign-up blank name", "name", name="   "),
    signup_case("sign-up without party name", "party_name", party_name=...),
    signup_case("sign-up locale fr", "locale", locale="fr"),
    signup_case("sign-up locale zh_CN", "locale", locale="zh_CN"),
    signup_case("sign-up time zone unknown", "timezone", timezone="Mars/Olympus_Mons"),
    signup_case("sign-up time zone localtime", "timezone", timezone="localtime"),
    signup_case("sign-up time zone a number", "timezone", timezone=8),
    case("sign-up address taken", SIGNUP, 409, "email_taken", signup_body(email="Li@example.com")),
    case(
        "sign-up as text/plain",
        SIGNUP,
        415,
        "unsupported_media_type",
        text=json.dumps(signup_body()),
        content_type=TEXT,
    ),
    case("verify without token", VERIFY, 422, "validation_failed", {}, field="token"),
    case("verify empty token", VERIFY, 422, "validation_failed", {"token": ""}, field="token"),
    case("verify unknown token", VERIFY, 422, "unknown_token", {"token": "pw_nothing"}),
    case("resend when verified", "li POST /signup/verification", 409, "already_verified"),
    case("resend anonymous", "anonymous POST /signup/verification", 401, "missing_token"),
    case("approve unknown", "admin POST /signups/999999/approve", 404, "signup_not_found", {}),
    case("approve 10**20", f"admin POST /signups/{HUGE_ID}/approve", 404, "signup_not_found", {}),
    case("approve as a client", "client POST /signups/1/approve", 403, "forbidden", {}),
    case(
        "refuse blank reason",
        "admin POST /signups/1/refuse",
        422,
        "validation_failed",
        {"reason": "  "},
        field="reason",
    ),
    case(
        "refuse reason too long",
        "admin POST /signups/1/refuse",
        422,
        "validation_failed",
        {"reason": "x" * 501},
        field="reason",
    ),
    case(
        "refuse unknown",
        "admin POST /signups/999999/refuse",
        404,
        "signup_not_found",
        {"reason": "No."},
    ),
    case(
        "sign-ups of no status",
        "admin GET /signups?status=waiting",
        422,
        "validation_failed",
        field="status",
        location="query",
    ),
    case("reset without e-mail", RESET, 422, "validation_failed", {}, field="email"),
    case("reset e-mail a list", RESET, 422, "validation_failed", {"email": []}, field="email"),
    case(
        "complete short password",
        COMPLETE,
        422,
        "validation_failed",
        {"token": "x", "password": "short"},
        field="password",
    ),
    case(
        "complete unknown token",
        COMPLETE,
        422,
        "unknown_token",
        {"token": "pw_nothing", "password": NEW_PASSWORD},
    ),
    case(
        "change with a wrong password",
        CHANGE,
        422,
        "wrong_password",
        {"current_password": "guess", "new_password": NEW_PASSWORD},
    ),
    case(
        "change to a short password",
        CHANGE,
        422,
        "validation_failed",
        {"current_password": PASSWORD, "new_password": "short"},
        field="new_password",
    ),
    case(
        "language not spoken", LANGUAGE, 422, "validation_failed", {"locale": "fr"}, field="locale"
    ),
    case("language missing", LANGUAGE, 422, "validation_failed", {}, field="locale"),
    case("token without name", TOKENS, 422, "validation_failed", {}, field="name"),
    case("token blank name", TOKENS, 422, "validation_failed", {"name": " "}, field="name"),
    case(
        "token expiry without zone",
        TOKENS,
        422,
        "validation_failed",
        {"name": "ci", "expires_at": "2027-01-01T00:00:00"},
        field="expires_at",
    ),
    case(
        "token expiry not a moment",
        TOKENS,
        422,
        "validation_failed",
        {"name": "ci", "expires_at": "next week"},
        field="expires_at",
    ),
    case(
        "token expiry past",
        TOKENS,
        422,
        "expiry_not_in_future",
        {"name": "ci", "expires_at": "2026-03-01T00:00:00+00:00"},
    ),
    case("revoke unknown token", "li DELETE /me/tokens/999999", 404, "token_not_found"),
    case("revoke owner's token", "li DELETE /me/tokens/{owner_token}", 404, "token_not_found"),
    case("revoke 10**20", f"li DELETE /me/tokens/{HUGE_ID}", 404, "token_not_found"),
]


def test_accounts(subtests, app, api, cast, frozen_clock):
    ids = {"owner_token": api.get("/me/tokens", cast.owner).body[0]["id"]}
    tables = Tables(app)
    for bad in ACCOUNTS_CASES:
        with subtests.test(bad.id):
            bad.check(app, api, cast, ids, tables)
