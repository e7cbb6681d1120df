"""Webhook endpoints and notice preferences: a URL that is not http(s) or not public, an
event type not in the catalogue, a field of the wrong kind is 422 naming it; another
party's endpoint is 404, a member in another role 403, a 17th endpoint 409. Nothing is
written by a refusal."""

import pytest

from tests.bad_input.cases import HUGE_ID, SIGNED_OVERFLOW, TEXT, Tables, case, query_case
from tests.notices.support import register

pytestmark = pytest.mark.slow

INVALID = "validation_failed"
HOOK = {"url": "https://hooks.example.com/in", "events": ["drop.released"]}
REGISTER = "owner POST /webhook-endpoints"
LOTUS_HOOK = "/webhook-endpoints/{lotus_endpoint}"
NOT_THE_ENDPOINT = (404, "webhook_endpoint_not_found")
PREFERENCES = "owner PUT /me/notice-preferences"
NOT_PUBLIC, URL = "url_not_public", {"field": "url"}


def invalid(case_id: str, route: str, body: dict, field: str):
    return case(case_id, route, 422, INVALID, body, field=field)


NOTICES_CASES = [
    *(
        invalid(f"register with url {url!r}", REGISTER, HOOK | {"url": url}, "url")
        for url in (
            "ftp://hooks.example.com/in",
            "javascript:alert(1)",
            "hooks.example.com/in",
            "https://",
            "",
            "https://hooks.example.com/" + "x" * 2048,
            42,
            None,
        )
    ),
    *(
        invalid(f"register for events {events!r}", REGISTER, HOOK | {"events": events}, "events")
        for events in ([], ["drop.exploded"], "drop.released", [7], None, ["*"] * 20)
    ),
    *(
        case(f"{verb} to {url}", route, 422, NOT_PUBLIC, HOOK | {"url": url}, details=URL)
        for url in ("http://127.0.0.1:8080/in", "https://[::1]/in", "http://169.254.169.254/")
        for verb, route in (("register", REGISTER), ("change", f"owner PATCH {LOTUS_HOOK}"))
    ),
    invalid("register without a url", REGISTER, {"events": ["*"]}, "url"),
    invalid("register without events", REGISTER, {"url": HOOK["url"]}, "events"),
    invalid(
        "register with a blank description", REGISTER, HOOK | {"description": "  "}, "description"
    ),
    invalid("register with its own secret", REGISTER, HOOK | {"secret": "whsec_mine"}, "secret"),
    invalid("register for party 0", REGISTER, HOOK | {"party_id": 0}, "party_id"),
    invalid(
        "register for a party beyond 64 bits", REGISTER, HOOK | {"party_id": HUGE_ID}, "party_id"
    ),
    case(
        "register for another team",
        REGISTER,
        404,
        "party_not_found",
        lambda ids: HOOK | {"party_id": ids["tiger"]},
    ),
    case(
        "register for own team as its reviewer",
        "reviewer POST /webhook-endpoints",
        403,
        "forbidden",
        lambda ids: HOOK | {"party_id": ids["lotus"]},
    ),
    case("register as an annotator", "li POST /webhook-endpoints", 403, "forbidden", HOOK),
    case("register as an admin", "admin POST /webhook-endpoints", 403, "forbidden", HOOK),
    case(
        "register as text", REGISTER, 415, "unsupported_media_type", text="url", content_type=TEXT
    ),
    case(
        "register without a token", "anonymous POST /webhook-endpoints", 401, "missing_token", HOOK
    ),
    invalid("change to an ftp url", f"owner PATCH {LOTUS_HOOK}", {"url": "ftp://x.example"}, "url"),
    invalid("change to no events", f"owner PATCH {LOTUS_HOOK}", {"events": []}, "events"),
    invalid("enable maybe", f"owner PATCH {LOTUS_HOOK}", {"enabled": "maybe"}, "enabled"),
    *(
        case(
            f"{verb} endpoint {n}",
            f"owner {method} /webhook-endpoints/{n}{tail}",
            *NOT_THE_ENDPOINT,
            body,
        )
        for n in (999_999, HUGE_ID, SIGNED_OVERFLOW)
        for verb, method, tail, body in (
            ("change", "PATCH", "", {"enabled": False}),
            ("delete", "DELETE", "", None),
            ("rotate", "POST", "/rotate-secret", None),
        )
    ),
    *(
        case(f"{verb} {whose}", f"{who} {method} {LOTUS_HOOK}{tail}", *refusal, body)
        for whose, who, refusal in (
            ("another team's endpoint", "rival_owner", NOT_THE_ENDPOINT),
            ("own team's endpoint as an annotator", "li", (403, "forbidden")),
        )
        for verb, method, tail, body in (
            ("change", "PATCH", "", {"enabled": False}),
            ("delete", "DELETE", "", None),
            ("rotate", "POST", "/rotate-secret", None),
        )
    ),
    case(
        "the client's log as the team",
        "owner GET /webhook-endpoints/{horizon_endpoint}/deliveries",
        *NOT_THE_ENDPOINT,
    ),
    *(
        query_case(f"deliveries {query}", f"owner GET {LOTUS_HOOK}/deliveries", query, field)
        for query, field in (
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("after=-1", "after"),
            ("after=x", "after"),
        )
    ),
    *(
        invalid(f"preferences {body}", PREFERENCES, body, field)
        for body, field in (
            ({"lead_minutes": 0}, "lead_minutes"),
            ({"lead_minutes": 1441}, "lead_minutes"),
            ({"lead_minutes": "30"}, "lead_minutes"),
            ({"lead_minutes": 1.5}, "lead_minutes"),
            ({"drop_released_email": "maybe"}, "drop_released_email"),
            ({"earnings_email": None}, "earnings_email"),
        )
    ),
    case(
        "drop e-mails for a client",
        "client PUT /me/notice-preferences",
        403,
        "forbidden",
        {"drop_released_email": True},
    ),
]


@pytest.fixture
def hooks(app, api, cast) -> dict[str, int]:
    """Lotus's owner and Horizon's admin each registered an endpoint."""
    ids = {party: cast.party_ids[party] for party in ("lotus", "tiger", "horizon")}
    ids["lotus_endpoint"] = register(api, cast.owner, HOOK["url"])["id"]
    ids["horizon_endpoint"] = register(api, cast.client, HOOK["url"])["id"]
    return ids


def test_notices_refused(subtests, app, api, cast, hooks):
    tables = Tables(app)
    for bad in NOTICES_CASES:
        with subtests.test(bad.id):
            bad.check(app, api, cast, hooks, tables)


def test_a_party_has_at_most_sixteen_endpoints(app, api, cast):
    for n in range(16):
        register(api, cast.owner, f"https://hooks.example.com/{n}")
    answer = api.post("/webhook-endpoints", cast.owner, HOOK)
    assert (answer.status, answer.error_code) == (409, "too_many_endpoints")
    assert len(api.get("/webhook-endpoints", cast.owner).body) == 16
