"""Team invites, accepting them, and members deactivated and back."""

import pytest

from tests.bad_input.cases import (
    HUGE_ID,
    SIGNED_OVERFLOW,
    TEXT,
    case,
    query_case,
    run,
)
from tests.workers.invite_kit import PASSWORD, accept, invited, mailed_token, newcomer

pytestmark = pytest.mark.slow


@pytest.fixture
def invite_world(app, api, cast, story, frozen_clock) -> dict:
    """The story, and Lotus's invites: `pending` (mei@), `revoked` (wu@), `expired` (sun@,
    sent three days ago for one day), `accepted` (chen@, now a user), each with its mailed
    token; Tiger's `tiger_invite` of li@ (a user already) is pending. Zhang is deactivated."""
    frozen_clock.step(days=-3)
    invited(api, cast, "sun@example.com", expires_in_days=1)
    frozen_clock.step(days=3)
    ids = {
        "pending": invited(api, cast, "mei@example.com")["id"],
        "revoked": invited(api, cast, "wu@example.com")["id"],
        "tiger_invite": invited(api, cast, "li@example.com", team="tiger")["id"],
    }
    invited(api, cast, "chen@example.com")
    newcomer(api, mailed_token(app, "chen@example.com"), name="Chen")
    team = cast.party_ids["lotus"]
    assert api.delete(f"/teams/{team}/invites/{ids['revoked']}", cast.owner).status == 200
    zhang = f"/teams/{team}/members/{cast.user_ids['zhang']}/deactivate"
    assert api.post(zhang, cast.owner).status == 200
    tokens = {
        f"{name}_token": mailed_token(app, f"{who}@example.com")
        for name, who in (
            ("pending", "mei"),
            ("revoked", "wu"),
            ("expired", "sun"),
            ("accepted", "chen"),
            ("li", "li"),
        )
    }
    people = {f"{who}_id": cast.user_ids[who] for who in ("li", "owner", "rival_annotator")}
    return {**story, **ids, **tokens, **people}


INVITES = "POST /teams/{lotus}/invites"
INVITE = f"owner {INVITES}"
LIST = "owner GET /teams/{lotus}/invites"
REVOKE = "owner DELETE /teams/{lotus}/invites"
ACCEPT = "anonymous POST /invites/accept"
DEACTIVATE_LI = "POST /teams/{lotus}/members/{li_id}/deactivate"
MEI = {"email": "mei2@example.com", "role": "annotator"}
NEW = {"name": "Mei", "password": PASSWORD, "locale": "zh-CN"}


def bad_invite(case_id: str, field: str, **changes):
    body = {key: value for key, value in (MEI | changes).items() if value is not ...}
    return case(case_id, INVITE, 422, "validation_failed", body, field=field)


def accepting(invite: str, **body):
    """The body accepting the invite whose token is `invite`_token, with `body`."""
    return lambda ids: {"token": ids[f"{invite}_token"]} | body


INVITE_CASES = [
    # Inviting: the owner's, to an address, a role of a team member and a level of hers.
    bad_invite("no e-mail", "email", email=...),
    bad_invite("not an address", "email", email="mei at example.com"),
    bad_invite("a long address", "email", email="m" * 250 + "@example.com"),
    bad_invite("no role", "role", role=...),
    *(bad_invite(f"role {role}", "role", role=role) for role in ("team_owner", "client_admin", "")),
    bad_invite("level as text", "level_id", level_id="1"),
    *(
        case(f"level {n}", INVITE, 422, "unknown_level", MEI | {"level_id": n}, field=None)
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    *(
        bad_invite(f"expiry {days!r}", "expires_in_days", expires_in_days=days)
        for days in (0, 31, -1, "7", 1.5, None)
    ),
    bad_invite("language fr", "locale", locale="fr"),
    case(
        "mei invited twice",
        INVITE,
        409,
        "invite_pending",
        MEI | {"email": "MEI@Example.com"},
        details=lambda ids: {"invite_id": ids["pending"]},
    ),
    case("li invited again", INVITE, 409, "already_member", MEI | {"email": "li@example.com"}),
    case("invite as text", INVITE, 415, "unsupported_media_type", text="mei", content_type=TEXT),
    case("invite, broken JSON", INVITE, 400, "malformed_json", text='{"email":'),
    case("invite to tiger", "owner POST /teams/{tiger}/invites", 404, "team_not_found", MEI),
    case("invite to team 999999", "owner POST /teams/999999/invites", 404, "team_not_found", MEI),
    case("li invites", f"li {INVITES}", 403, "forbidden", MEI),
    case("reviewer invites", f"reviewer {INVITES}", 403, "forbidden", MEI),
    case("client invites", f"client {INVITES}", 404, "team_not_found", MEI),
    case("anonymous invites", f"anonymous {INVITES}", 401, "missing_token", MEI),
    # Listing.
    query_case("status bogus", LIST, "status=bogus", "status"),
    query_case("limit 0", LIST, "limit=0", "limit"),
    case("list by li", "li GET /teams/{lotus}/invites", 403, "forbidden"),
    case("list by tiger", "rival_owner GET /teams/{lotus}/invites", 404, "team_not_found"),
    case("list of team huge", f"owner GET /teams/{HUGE_ID}/invites", 404, "team_not_found"),
    # Revoking.
    *(
        case(f"revoke {n}", f"{REVOKE}/{n}", 404, "invite_not_found")
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
    ),
    case("revoke tiger's", REVOKE + "/{tiger_invite}", 404, "invite_not_found"),
    case(
        "revoke a revoked",
        REVOKE + "/{revoked}",
        409,
        "invite_not_pending",
        details={"status": "revoked"},
    ),
    case("li revokes", "li DELETE /teams/{lotus}/invites/{pending}", 403, "forbidden"),
    # Accepting: a token of an invite still pending; a newcomer's name and password, or the
    # password (or bearer token) of the invited address's user.
    case("no token", ACCEPT, 422, "validation_failed", NEW, field="token"),
    case("empty token", ACCEPT, 422, "validation_failed", NEW | {"token": ""}, field="token"),
    case("long token", ACCEPT, 422, "validation_failed", NEW | {"token": "i" * 201}, field="token"),
    case("token a number", ACCEPT, 422, "validation_failed", NEW | {"token": 7}, field="token"),
    case("unknown token", ACCEPT, 404, "invite_not_found", NEW | {"token": "inv_" + "x" * 43}),
    case(
        "no name",
        ACCEPT,
        422,
        "account_details_required",
        accepting("pending", password=PASSWORD),
        details={"fields": ["name"]},
    ),
    case(
        "blank name",
        ACCEPT,
        422,
        "validation_failed",
        accepting("pending", name="   ", password=PASSWORD),
        field="name",
    ),
    case(
        "weak password",
        ACCEPT,
        422,
        "weak_password",
        accepting("pending", **NEW | {"password": "short"}),
    ),
    case(
        "language fr",
        ACCEPT,
        422,
        "validation_failed",
        accepting("pending", **NEW | {"locale": "fr"}),
        field="locale",
    ),
    *(
        case(
            f"a {status} invite",
            ACCEPT,
            409,
            "invite_not_pending",
            accepting(status, **NEW),
            details={"status": status},
        )
        for status in ("revoked", "expired", "accepted")
    ),
    case("li, no password", ACCEPT, 422, "password_required", accepting("li")),
    # Li's wrong password writes: it counts towards her lock (tests/workers/test_invites.py).
    case(
        "li's invite, by wang",
        "wang POST /invites/accept",
        403,
        "invite_for_another_address",
        accepting("li"),
    ),
    case("by a dead token", "stranger POST /invites/accept", 401, "invalid_token", accepting("li")),
    case("accept as text", ACCEPT, 415, "unsupported_media_type", text="inv_", content_type=TEXT),
    case("accept, broken JSON", ACCEPT, 400, "malformed_json", text='{"token":'),
    # Deactivating and reactivating: the owner's, of her team's annotators and reviewers.
    *(
        case(
            f"deactivate {who}",
            f"owner POST /teams/{{lotus}}/members/{{{who}}}/deactivate",
            404,
            "member_not_found",
        )
        for who in ("owner_id", "rival_annotator_id")
    ),
    *(
        case(
            f"{action} member {n}",
            f"owner POST /teams/{{lotus}}/members/{n}/{action}",
            404,
            "member_not_found",
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
        for action in ("deactivate", "reactivate")
    ),
    case(
        "deactivate zhang again",
        "owner POST /teams/{lotus}/members/" + "{zhang_id}/deactivate",
        409,
        "already_deactivated",
    ),
    case(
        "reactivate li",
        "owner POST /teams/{lotus}/members/{li_id}/reactivate",
        409,
        "not_deactivated",
    ),
    case("li deactivated by li", f"li {DEACTIVATE_LI}", 403, "forbidden"),
    case("li deactivated by the reviewer", f"reviewer {DEACTIVATE_LI}", 403, "forbidden"),
    case("li deactivated by the client", f"client {DEACTIVATE_LI}", 404, "team_not_found"),
    case("li deactivated by tiger", f"rival_owner {DEACTIVATE_LI}", 404, "team_not_found"),
    case(
        "deactivate as text",
        f"owner {DEACTIVATE_LI}",
        415,
        "unsupported_media_type",
        text="now",
        content_type=TEXT,
    ),
]


def test_invites_and_deactivations_take_only_what_holds(subtests, app, api, cast, invite_world):
    ids = invite_world | {"zhang_id": cast.user_ids["zhang"]}
    run(subtests, app, api, cast, ids, INVITE_CASES)
    # The pending invite still works, after all that.
    assert accept(api, ids["pending_token"], **NEW).status == 201
