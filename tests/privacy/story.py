"""The README's chain, walked through every moment of its money's life.

Horizon -> Apex 0.10 -> Bridge 0.08 -> Crane 0.055; Crane's annotator earns 0.04 a box.
1,960 boxes accepted (one of them only after its annotator disputed a rejection), each
worked 17 s, beside a reference wage of 24.30 CNY an hour: an hour pays 21.18 at
Horizon's price, 16.94 at Apex's, 11.65 at Bridge's and 8.47 at Crane's piece rate;
lines 196.00, 156.80, 107.80 and 78.40; margins Apex 39.20, Bridge 49.00, Crane 29.40;
the invoice is 196.00 + a 5 % fee of 9.80 = 205.80, due 30 days after it is cut.

The moments, in order (each a step on from the one before):

| moment | what happened |
| --- | --- |
| unbilled | the boxes are accepted, nothing is invoiced |
| invoiced | the admin cuts the invoice: 205.80 due 2026-04-02 |
| overdue | a day past due; the dunning pass writes its notice |
| disputed | the admin opens a dispute on the invoice |
| on_credit_hold | the admin puts Horizon on credit hold |
| credited | a credit note of 10.80: 195.00 owed |
| partly_paid | a bank transfer of 94.30: 100.70 owed |
| paid | a transfer of 100.70; the lifting job lifts the hold |
| paid_out | a payout run pays everyone what is available |
| refunded | 40.50 of the second transfer goes back to Horizon |
| charged_back | Horizon's bank takes back 29.70 of the first |
| written_off | the admin writes off the 70.20 owed again |

Amounts are not round: a band's bound on the payment record (100.00) is no secret.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from marketplace.db import unit_of_work
from marketplace.receivables.chase import chase_receivables
from marketplace.receivables.days import business_today
from tests.flows import BOXES as BOXES_RESULT
from tests.flows import post_order, release_drops, review, set_rate
from tests.subcontract.chain_kit import Team, award, pass_down, seed_teams
from tests.support import ApiClient

BOXES = 1960
SECONDS_PER_BOX = 17
# Shanghai's wage, not round: no bound or share of the story's is the same figure.
WAGE = {
    "currency": "CNY",
    "region": "Shanghai",
    "hourly_wage": "24.30",
    "source": "Shanghai minimum wage notice",
    "effective_on": "2025-07-01",
}
TEAMS = ("apex", "bridge", "crane")
ZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Story:
    order_id: int
    invoice_id: int | None
    teams: dict[str, Team]


def ok(answer, status=(200, 201)):
    assert answer.status in status, (answer.status, answer.body)
    return answer.body


def build_chain(app, api: ApiClient, cast, clock) -> Story:
    """The order passed down the chain and its boxes done and accepted, and a rival's
    lottery drop at 03:00 the next morning in Shanghai: unbilled."""
    teams = seed_teams(app, TEAMS)
    # Every party of the chain takes every event: its delivery log is crawled with the rest.
    hook = {"url": "https://hooks.example/in", "events": ["*"]}
    for token in (cast.client, *(team.owner for team in teams.values())):
        ok(api.post("/webhook-endpoints", token, hook))
    order_id = post_order(
        api, cast.client, items=BOXES, price="0.10", batch_size=490, sourcing="bids"
    )
    apex = award(api, cast.client, order_id, teams["apex"], "0.10", BOXES)
    bridge = pass_down(api, teams["apex"], apex, teams["bridge"], "0.08", BOXES)
    offer = ok(
        api.post(
            f"/contracts/{bridge['id']}/offers",
            teams["bridge"].owner,
            {"unit_price": "0.055", "quantity": BOXES},
        )
    )
    bid = ok(
        api.post(
            f"/offers/{offer['id']}/bids",
            teams["crane"].owner,
            {"unit_price": "0.055", "quantity": BOXES},
        )
    )
    ok(api.post(f"/bids/{bid['id']}/award", teams["bridge"].owner, {}))
    crane = teams["crane"]
    for batch in ok(api.get("/batches?limit=1000", crane.owner)):
        if batch["order_id"] == order_id:
            ok(api.post(f"/batches/{batch['id']}/claim", crane.owner))
    set_rate(api, crane.owner, order_id, "0.04")
    ok(api.post("/reference-wages", cast.admin, WAGE))
    done = _work(api, crane.annotator, clock)
    review(api, crane.reviewer, accept=done[1:], reject=done[:1])
    dispute = ok(
        api.post(f"/submissions/{done[0]}/dispute", crane.annotator, {"reason": "box is right"})
    )
    ok(
        api.post(
            f"/disputes/{dispute['id']}/decision",
            crane.owner,
            {"decision": "uphold", "note": "the box fits"},
        )
    )
    _rival_lottery_drop(app, api, cast, clock)
    return Story(order_id, None, teams)


def _work(api: ApiClient, token: str, clock) -> list[int]:
    """The annotator takes every box at once and submits each 17 s later: an hour's pay
    at each link's price is a figure of its own (0.10 x 3600 / 17 = 21.18, ...)."""
    tasks = []
    while len(tasks) < BOXES:
        tasks += ok(api.post("/tasks/next", token, {"count": 500}))
    clock.step(seconds=SECONDS_PER_BOX)
    return [
        ok(api.post(f"/tasks/{task['id']}/submit", token, {"result": BOXES_RESULT}))["id"]
        for task in tasks
    ]


def _rival_lottery_drop(app, api: ApiClient, cast, clock) -> None:
    """Acme's order drops by lottery at 03:00 to Tiger: a drop and a published allotment,
    ids every reader tries."""
    plan = {"cron": "0 3 * * *", "timezone": ZONE, "batches_per_drop": 2}
    order_id = post_order(
        api,
        cast.rival_client,
        items=4,
        batch_size=2,
        price="0.12",  # none of the story's prices: Acme may read its own
        release_plan=plan,
        claim_mode="lottery",
    )
    ok(api.put(f"/orders/{order_id}/interest", cast.rival_owner, {"batches": 1}))
    clock.stand_at("2026-03-03T03:00:00+08:00")
    assert len(release_drops(app)) == 1


def walk(app, api: ApiClient, cast, clock) -> Iterator[tuple[str, Story]]:
    """Each moment of the story's money, in order, as (name, story) once it stands there."""
    story = build_chain(app, api, cast, clock)
    yield "unbilled", story

    invoice = ok(api.post(f"/orders/{story.order_id}/invoices", cast.admin))
    assert (invoice["total"], invoice["due_on"]) == ("205.80", "2026-04-02")
    story = Story(story.order_id, invoice["id"], story.teams)
    yield "invoiced", story

    def admin(path: str, body: dict) -> None:
        clock.step(minutes=1)
        ok(api.post(path, cast.admin, body))

    on_invoice, horizon = f"/invoices/{invoice['id']}", cast.party_ids["horizon"]
    clock.stand_at("2026-04-03T09:00:00+08:00")
    _chase(app)
    yield "overdue", story
    admin(f"{on_invoice}/disputes", {"reason": "the count of boxes is questioned"})
    yield "disputed", story
    admin(f"/clients/{horizon}/credit-holds", {"reason": "INV-2026-000001 is late"})
    yield "on_credit_hold", story
    admin(f"{on_invoice}/credit-notes", {"amount": "10.80", "reason": "boxes counted twice"})
    yield "credited", story
    admin(f"{on_invoice}/payments", _transfer("94.30", "ICBC-1"))
    yield "partly_paid", story
    admin(f"{on_invoice}/payments", _transfer("100.70", "ICBC-2"))
    _chase(app)  # lifts the hold: Horizon owes nothing overdue
    yield "paid", story
    admin("/payout-runs", {"currency": "CNY"})
    yield "paid_out", story
    admin(f"/payments/{_payment(api, cast, 'ICBC-2')}/reversals", _reversal("refund", "40.50"))
    yield "refunded", story
    admin(f"/payments/{_payment(api, cast, 'ICBC-1')}/reversals", _reversal("chargeback", "29.70"))
    yield "charged_back", story
    admin(f"{on_invoice}/write-offs", {"reason": "Horizon will not pay the rest"})
    yield "written_off", story


def _transfer(amount: str, reference: str) -> dict:
    return {"amount": amount, "reference": reference, "received_on": "2026-04-03"}


def _chase(app) -> None:
    with app.app_context(), unit_of_work() as session:
        chase_receivables(session, today=business_today(ZONE))


def _payment(api: ApiClient, cast, reference: str) -> int:
    [found] = [p for p in ok(api.get("/payments", cast.admin)) if p["reference"] == reference]
    return found["id"]


def _reversal(kind: str, amount: str) -> dict:
    return {"kind": kind, "amount": amount, "reference": f"{kind}-{amount}"}
