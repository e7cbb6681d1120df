"""Every endpoint, called by every role: who may, who gets 403, who gets 404.

An object a party may not see answers 404 (its existence is not disclosed);
one it may see but its role may not act on answers 403. Denied calls come first
in each table, so a refusal that wrongly wrote something would show in the
allowed call after it.
"""

from dataclasses import dataclass

import pytest

from tests.flows import claim, order_body, post_order, review, set_rate, submit

pytestmark = pytest.mark.slow

ROLES = [
    "admin",
    "client",
    "owner",
    "reviewer",
    "li",
    "rival_client",
    "rival_owner",
    "rival_reviewer",
    "rival_annotator",
]
TEAM = ["owner", "reviewer", "li"]
RIVALS = ["rival_client", "rival_owner", "rival_reviewer", "rival_annotator"]
RIVAL_TEAM = ["rival_owner", "rival_reviewer", "rival_annotator"]


@dataclass
class World:
    order: int  # Horizon's, published; Lotus holds its first batch
    draft: int  # Horizon's, not published
    rival_draft: int  # Acme's
    free_batch: int  # a released batch of `order`
    contract: int  # Horizon -> Lotus
    li_task: int  # in Li's hands, not submitted
    accepted: int  # Li's submission, accepted and invoiced
    waiting: list[int]  # Li's and Wang's submissions, waiting for review
    invoice: int
    payout_run: int


@pytest.fixture
def world(api, cast) -> World:
    order = post_order(api, cast.client, items=20, batch_size=5)
    draft = post_order(api, cast.client, items=5, batch_size=5, publish=False)
    rival_draft = post_order(api, cast.rival_client, items=5, batch_size=5, publish=False)
    claim(api, cast.owner, order, batches=1)
    set_rate(api, cast.owner, order, "0.06")
    [accepted, waiting_li] = submit(api, cast.li, 2)
    li_task = api.post("/tasks/next", cast.li, {"count": 1}).body[0]["id"]
    [waiting_wang] = submit(api, cast.wang, 1)
    review(api, cast.reviewer, accept=[accepted])
    invoice = api.post(f"/orders/{order}/invoices", cast.admin).body["id"]
    return World(
        order=order,
        draft=draft,
        rival_draft=rival_draft,
        free_batch=api.get("/batches", cast.owner).body[0]["id"],
        contract=api.get("/contracts", cast.owner).body[0]["id"],
        li_task=li_task,
        accepted=accepted,
        waiting=[waiting_li, waiting_wang],
        invoice=invoice,
        payout_run=api.post("/payout-runs", cast.admin, {"currency": "CNY"}).body["id"],
    )


def expect(default, *, then=(), **by_role):
    """Expected status per role, in calling order: `default` for every role not named,
    the named ones, and last the `then` pairs (the allowed calls that change the world)."""
    last = dict(then)
    table = {role: by_role.get(role, default) for role in ROLES if role not in last}
    return {**table, **last}


def check(api, cast, method, path, expected, body=None):
    """Call as each role in the table's order; return the cells that answered otherwise."""
    wrong = []
    for role, want in expected.items():
        answer = api.call(method, path, cast.tokens[role], json=body)
        status, code = (want, None) if isinstance(want, int) else want
        if answer.status != status or (code and answer.error_code != code):
            wrong.append(
                f"{method} {path} as {role}: {answer.status} {answer.error_code}, "
                f"expected {status} {code or ''}"
            )
        if answer.status == 403:
            assert answer.error_code == "forbidden", answer.body
        if answer.status == 404:
            assert answer.error_code.endswith("not_found"), answer.body
    return wrong


def test_reads(api, cast, world):
    w = world
    visible_to_team = expect(404, admin=200, client=200, owner=200, reviewer=200, li=200)
    client_only = expect(404, admin=200, client=200)
    admin_only = expect(403, admin=200)
    reads = {
        "/me": expect(200),
        "/orders": expect(200),
        f"/orders/{w.order}": visible_to_team,
        f"/orders/{w.draft}": client_only,
        f"/orders/{w.rival_draft}": expect(404, admin=200, rival_client=200),
        f"/orders/{w.order}/batches": expect(
            404, admin=200, client=200, owner=403, reviewer=403, li=403
        ),
        "/batches": expect(200, client=403, rival_client=403),
        f"/orders/{w.order}/drops": visible_to_team,
        "/drops/upcoming": expect(200, client=403, rival_client=403),
        "/contracts": expect(200),
        f"/contracts/{w.contract}": expect(404, admin=200, client=200, owner=200),
        "/tasks": expect(200),
        "/submissions": expect(403, owner=200, reviewer=200, rival_owner=200, rival_reviewer=200),
        "/invoices": expect(200),
        f"/invoices/{w.invoice}": client_only,
        f"/invoices/{w.invoice}/payments": client_only,
        "/payout-runs": admin_only,
        f"/payout-runs/{w.payout_run}": admin_only,
        f"/payout-runs/{w.payout_run}/bank-file": admin_only,
        "/me/earnings": expect(200),
        "/ledger/totals": admin_only,
    }
    wrong = [cell for path, table in reads.items() for cell in check(api, cast, "GET", path, table)]
    assert not wrong, "\n".join(wrong)


def test_lists_show_nobody_else_s_objects(api, cast, world):
    def ids(path, role):
        return {row["id"] for row in api.get(path, cast.tokens[role]).body}

    assert ids("/orders", "client") == {world.order, world.draft}
    assert ids("/orders", "owner") == ids("/orders", "li") == {world.order}
    assert ids("/orders", "rival_client") == {world.rival_draft}
    assert ids("/orders", "rival_owner") == set()
    assert ids("/orders", "admin") == {world.order, world.draft, world.rival_draft}
    for role in [*RIVALS, "reviewer", "li"]:
        assert ids("/contracts", role) == set(), role
        assert ids("/invoices", role) == set(), role
    assert ids("/invoices", "client") == {world.invoice}
    assert ids("/tasks", "li") == {world.li_task}
    for role in [*RIVALS, "owner", "reviewer", "client", "admin"]:
        assert ids("/tasks", role) == set(), role
    assert ids("/submissions", "reviewer") == set(world.waiting)
    assert ids("/submissions", "rival_reviewer") == set()
    for role in [*RIVALS, "client"]:
        holdings = api.get("/me/earnings", cast.tokens[role]).body["holdings"]
        assert all(h["party_name"] != "Lotus" for h in holdings), role
    [mine] = api.get("/me/earnings", cast.li).body["holdings"]
    assert (mine["holder"], mine["pending"]) == ("annotator", "0.06")
    assert api.get("/me/earnings", cast.wang).body["holdings"] == []  # nothing accepted yet


def test_writes(api, cast, world):
    w = world
    new_order = order_body(batch_size=5)
    tables = {  # denials first, then the allowed calls in order
        "publish": expect(404, admin=403, then=[("client", 200)]),
        "claim": expect(403, then=[("owner", 200), ("rival_owner", (409, "batch_taken"))]),
        "rate": expect(404, admin=403, client=403, reviewer=403, li=403, then=[("owner", 200)]),
        "take": expect(403, then=[("li", 200), ("rival_annotator", 200)]),
        "submit": expect(404, then=[("li", 201)]),
        "review": expect(
            403, rival_owner=404, rival_reviewer=404, then=[("reviewer", 200), ("owner", 409)]
        ),
        "bulk_review": expect(
            403,
            rival_owner=404,
            rival_reviewer=404,
            then=[("owner", 200), ("reviewer", (409, "already_reviewed"))],
        ),
        "pay": expect(404, client=403, then=[("admin", 201)]),
        "payout": expect(403, then=[("admin", 201)]),
        "post_order": expect(403, then=[("client", 201), ("rival_client", 201)]),
    }
    calls = [
        ("POST", f"/orders/{w.draft}/publish", None, "publish"),
        ("POST", f"/batches/{w.free_batch}/claim", None, "claim"),
        ("PUT", f"/orders/{w.order}/piece-rate", {"unit_price": "0.05"}, "rate"),
        ("POST", "/tasks/next", {"count": 1}, "take"),
        ("POST", f"/tasks/{w.li_task}/submit", {"result": {"boxes": []}}, "submit"),
        ("POST", f"/submissions/{w.waiting[0]}/review", {"decision": "accept"}, "review"),
        (
            "POST",
            "/reviews",
            {"decisions": [{"submission_id": w.waiting[1], "decision": "accept"}]},
            "bulk_review",
        ),
        (
            "POST",
            f"/invoices/{w.invoice}/payments",
            {"amount": "0.11", "reference": "T-1", "received_on": "2026-03-03"},
            "pay",
        ),
        ("POST", "/payout-runs", {"currency": "CNY"}, "payout"),
        ("POST", "/orders", new_order, "post_order"),
    ]
    wrong = []
    for method, path, body, name in calls:
        wrong += check(api, cast, method, path, tables[name], body)
    assert not wrong, "\n".join(wrong)


def test_invoicing_is_the_platform_admin_s(api, cast, world):
    review(api, cast.reviewer, accept=[world.waiting[0]])
    table = expect(404, client=403, owner=403, reviewer=403, li=403, then=[("admin", 201)])
    wrong = check(api, cast, "POST", f"/orders/{world.order}/invoices", table)
    assert not wrong, "\n".join(wrong)


def test_logging_out_and_logging_in(api, cast, world):
    for role in ROLES:
        assert api.delete("/auth/tokens/current", cast.tokens[role]).status == 204
        assert api.get("/me", cast.tokens[role]).error_code == "invalid_token"
    login = api.post(
        "/auth/tokens", json={"email": "li@example.com", "password": "correct horse battery"}
    )
    assert login.status == 201


def test_every_endpoint_refuses_a_missing_or_unknown_token(app, api, cast, world):
    routes = [
        (method, rule.rule.removeprefix("/api/v1"))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") and rule.rule != "/api/v1/auth/tokens"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    assert len(routes) >= 29
    wrong = []
    for method, rule in routes:
        path = rule.replace("<int:", "").replace(">", "")
        for segment in (
            "order_id",
            "batch_id",
            "contract_id",
            "task_id",
            "submission_id",
            "invoice_id",
            "run_id",
        ):
            path = path.replace(segment, "1")
        for token, code in ((None, "missing_token"), ("no-such-token", "invalid_token")):
            answer = api.call(method, path, token, json={} if method != "GET" else None)
            if (answer.status, answer.error_code) != (401, code):
                wrong.append(f"{method} {path} with {token}: {answer.status} {answer.error_code}")
    assert not wrong, "\n".join(wrong)
