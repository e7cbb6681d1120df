"""Settlement through the API: money that arrives becomes available down every chain, exactly.

What the user relies on: a client may pay an invoice in parts, pay several at once, or pay
ahead; each payment's money is split over the invoice's lines and each line's shares by
largest remainder, so the parts add up to the payment to the fen, nobody is ever made
available more than its share, nothing is available before money arrives, and when the
invoice is paid every holder has exactly its share. A payment naming no invoice pays the
oldest due first; what no invoice takes is the client's credit and pays the next invoice
the moment it is issued.
"""

from sqlalchemy import func, select

from marketplace.db import db
from marketplace.payments.models import Application, SettlementPart
from tests.flows import claim, holding, ledger_totals, post_order, review, set_rate, submit
from tests.subcontract.chain_kit import seed_teams
from tests.support import row_counts

# --- worlds and helpers (test_reversals.py uses them too) --------------------------------

# Each holder's share of the chain world's invoice (see chain_invoice).
CHAIN_SHARES = {
    "lotus": "0.39",
    "li": "0.12",
    "wang": "0.07",
    "apex": "0.19",
    "bridge": "0.02",
    "bridge_annotator": "0.28",
    "platform": "0.05",
}


def chain_invoice(app, api, cast) -> tuple[dict, dict[str, tuple[str, str]]]:
    """Horizon's 11 boxes at 0.0973 CNY, invoiced: two items lines and the fee.

    Lotus claims the first batch (6 boxes): Li does 4 at 0.031, then Wang 2 at 0.0333.
    Apex claims the other (5 boxes) and passes it to Bridge at 0.0599, whose annotator
    does them at 0.0555. Lines, each rounded once, half-up (in fen):
      Lotus's line  6 x 0.0973 = 0.5838 -> 58: Li 4 x 0.031 = 0.124 -> 12,
                    Wang 2 x 0.0333 = 0.0666 -> 7, Lotus keeps 58 - 12 - 7 = 39
      Apex's line   5 x 0.0973 = 0.4865 -> 49: Bridge's 5 x 0.0599 = 0.2995 -> 30, so
                    Apex keeps 19; Bridge's annotator 5 x 0.0555 = 0.2775 -> 28, Bridge 2
      fee           5 % of 107 = 5.35 -> 5;  total 112 (1.12 CNY)
    Returns the invoice and each holder's (token, holder kind)."""
    teams = seed_teams(app, ("apex", "bridge"))
    apex, bridge = teams["apex"], teams["bridge"]
    order_id = post_order(api, cast.client, items=11, batch_size=6, price="0.0973")
    claim(api, cast.owner, order_id, batches=1)
    [batch] = [b["id"] for b in api.get("/batches", apex.owner).body if b["order_id"] == order_id]
    assert api.post(f"/batches/{batch}/claim", apex.owner).status == 200
    [contract] = api.get("/contracts", apex.owner).body
    offer = api.post(
        f"/contracts/{contract['id']}/offers",
        apex.owner,
        {"to_team_id": bridge.id, "unit_price": "0.0599", "batch_ids": [batch]},
    )
    assert offer.status == 201, offer.body
    assert api.post(f"/offers/{offer.body['id']}/accept", bridge.owner, {}).status == 201
    set_rate(api, cast.owner, order_id, "0.031")
    review(api, cast.reviewer, accept=submit(api, cast.li, 4))
    set_rate(api, cast.owner, order_id, "0.0333")
    review(api, cast.reviewer, accept=submit(api, cast.wang, 2))
    set_rate(api, bridge.owner, order_id, "0.0555")
    review(api, bridge.reviewer, accept=submit(api, bridge.annotator, 5))
    invoice = issue(api, cast, order_id)
    assert [(line["kind"], line["quantity"], line["amount"]) for line in invoice["lines"]] == [
        ("items", 6, "0.58"),
        ("items", 5, "0.49"),
        ("fee", None, "0.05"),
    ]
    assert (invoice["total"], invoice["status"]) == ("1.12", "open")
    holders = {
        "lotus": (cast.owner, "team"),
        "li": (cast.li, "annotator"),
        "wang": (cast.wang, "annotator"),
        "apex": (apex.owner, "team"),
        "bridge": (bridge.owner, "team"),
        "bridge_annotator": (bridge.annotator, "annotator"),
        "platform": (cast.admin, "platform"),
    }
    return invoice, holders


def lotus_order(api, cast, items, *, rate="0.06", price="0.10", terms=30, **work) -> int:
    """An order of `items` boxes claimed by Lotus. Its annotators do them, all accepted:
    `work` names how many each does at `rate` (Li does all of them by default)."""
    order_id = post_order(
        api, cast.client, items=items, batch_size=items, price=price, payment_terms_days=terms
    )
    claim(api, cast.owner, order_id)
    set_rate(api, cast.owner, order_id, rate)
    for label, count in (work or {"li": items}).items():
        review(api, cast.reviewer, accept=submit(api, getattr(cast, label), count))
    return order_id


def issue(api, cast, order_id) -> dict:
    answer = api.post(f"/orders/{order_id}/invoices", cast.admin)
    assert answer.status == 201, answer.body
    return answer.body


def pay(api, cast, invoice_id, amount, reference, status=201) -> dict:
    """A bank transfer naming the invoice, recorded by the platform admin."""
    answer = api.post(
        f"/invoices/{invoice_id}/payments",
        cast.admin,
        {"amount": amount, "reference": reference, "received_on": "2026-03-02"},
    )
    assert answer.status == status, answer.body
    return answer.body


def transfer(api, cast, amount, reference, **extra):
    """A bank transfer of Horizon's in CNY naming no invoice (unless `extra` says)."""
    body = {"client_id": cast.party_ids["horizon"], "currency": "CNY", "amount": amount}
    body |= {"reference": reference, "received_on": "2026-03-02"} | extra
    return api.post("/payments", cast.admin, body)


def money(api, holders, invoice_id=None) -> dict[str, tuple]:
    """Each holder's (available, pending), and with `invoice_id` what it still waits for
    of that invoice (None once the invoice is paid)."""
    figures = {}
    for name, (token, kind) in holders.items():
        h = holding(api, token, kind)
        waits = [w["amount"] for w in h["waiting_on"] if w["invoice_id"] == invoice_id]
        figures[name] = (h["available"], h["pending"])
        if invoice_id is not None:
            figures[name] += (waits[0] if waits else None,)
    return figures


def applications(api, cast, payment_id) -> list[tuple[int, str]]:
    """Where the payment's money went, as the client reads its payment."""
    payment = api.get(f"/payments/{payment_id}", cast.client).body
    return [(a["invoice_id"], a["amount"]) for a in payment["applications"]]


def invoice_state(api, cast, invoice_id) -> tuple[str, str, str]:
    invoice = api.get(f"/invoices/{invoice_id}", cast.admin).body
    return invoice["status"], invoice["paid"], invoice["outstanding"]


def parts_by_application(app) -> list[tuple[int, int]]:
    """Each application's amount and the sum of the parts it settled, in minor units."""
    with app.app_context():
        rows = db.session.execute(
            select(Application.amount_minor, func.sum(SettlementPart.amount_minor))
            .join(SettlementPart, SettlementPart.application_id == Application.id)
            .group_by(Application.id, Application.amount_minor)
            .order_by(Application.id)
        )
        return [(int(amount), int(parts)) for amount, parts in rows]


# --- partial payments ---------------------------------------------------------------------


def test_three_partial_payments_settle_every_holder_exactly(app, api, cast, frozen_clock):
    invoice, holders = chain_invoice(app, api, cast)
    # Before any money: everything waits, nothing is available.
    assert money(api, holders, invoice["id"]) == {
        name: ("0.00", share, share) for name, share in CHAIN_SHARES.items()
    }

    # 0.33 over the lines' waits (58, 49, 5)/112: 17.09, 14.44, 1.47 -> 17 + 14 + 1 = 32,
    # the last fen to the largest remainder, the fee's .47 -> (17, 14, 2).
    # Lotus's line, 17 over (39, 12, 7)/58: 11.43, 3.52, 2.05 -> 11, 3 + 1 (Li's .52), 2.
    # Apex's line, 14 over (19, 2, 28)/49: 5.43, 0.57, 8.00 -> 5, 0 + 1 (Bridge's .57), 8.
    first = pay(api, cast, invoice["id"], "0.33", "BOC-1")
    assert (first["applied"], first["unapplied"]) == ("0.33", "0.00")
    first = api.get(f"/payments/{first['id']}", cast.client).body
    assert [(a["invoice_id"], a["kind"], a["amount"]) for a in first["applications"]] == [
        (invoice["id"], "payment", "0.33")
    ]
    assert invoice_state(api, cast, invoice["id"]) == ("open", "0.33", "0.79")
    assert money(api, holders, invoice["id"]) == {
        "lotus": ("0.11", "0.28", "0.28"),
        "li": ("0.04", "0.08", "0.08"),
        "wang": ("0.02", "0.05", "0.05"),
        "apex": ("0.05", "0.14", "0.14"),
        "bridge": ("0.01", "0.01", "0.01"),
        "bridge_annotator": ("0.08", "0.20", "0.20"),
        "platform": ("0.02", "0.03", "0.03"),
    }

    # 0.33 again, over what still waits: lines (41, 35, 3)/79: 17.13, 14.62, 1.25 ->
    # 17, 14 + 1 (.62), 1. Lotus's: 17 over (28, 8, 5)/41: 11.61, 3.32, 2.07 -> 11 + 1, 3, 2.
    # Apex's: 15 over (14, 1, 20)/35: 6.00, 0.43, 8.57 -> 6, 0, 8 + 1 (.57).
    pay(api, cast, invoice["id"], "0.33", "BOC-2")
    assert invoice_state(api, cast, invoice["id"]) == ("open", "0.66", "0.46")
    assert money(api, holders, invoice["id"]) == {
        "lotus": ("0.23", "0.16", "0.16"),
        "li": ("0.07", "0.05", "0.05"),
        "wang": ("0.04", "0.03", "0.03"),
        "apex": ("0.11", "0.08", "0.08"),
        "bridge": ("0.01", "0.01", "0.01"),
        "bridge_annotator": ("0.17", "0.11", "0.11"),
        "platform": ("0.03", "0.02", "0.02"),
    }

    # The rest, 0.46, completes the invoice: every share gets exactly what it waits for.
    last = pay(api, cast, invoice["id"], "0.46", "BOC-3")
    assert (last["applied"], last["unapplied"]) == ("0.46", "0.00")
    status, paid, outstanding = invoice_state(api, cast, invoice["id"])
    assert (status, paid, outstanding) == ("paid", "1.12", "0.00")
    assert api.get(f"/invoices/{invoice['id']}", cast.admin).body["paid_at"] is not None
    assert money(api, holders, invoice["id"]) == {
        name: (share, "0.00", None) for name, share in CHAIN_SHARES.items()
    }
    # Each application's parts add up to it, to the fen.
    assert parts_by_application(app) == [(33, 33), (33, 33), (46, 46)]
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_a_margin_a_fen_below_zero_settles_only_with_its_whole_line(app, api, cast):
    # 4 boxes at 0.0251: the line is 0.1004 -> 10. Li's 1 at 0.025 -> 0.025 -> 3 and
    # Wang's 3 at 0.025 = 0.075 -> 8 round up, so Lotus keeps 10 - 3 - 8 = -1. Fee 0.5 -> 1.
    order_id = lotus_order(api, cast, 4, rate="0.025", price="0.0251", li=1, wang=3)
    invoice = issue(api, cast, order_id)
    assert (invoice["items_amount"], invoice["fee"], invoice["total"]) == ("0.10", "0.01", "0.11")
    holders = {
        "lotus": (cast.owner, "team"),
        "li": (cast.li, "annotator"),
        "wang": (cast.wang, "annotator"),
        "platform": (cast.admin, "platform"),
    }
    # 0.05 over the lines (10, 1)/11: 4.55, 0.45 -> 4 + 1 (.55), 0. The items line's 5 goes
    # over the shares that wait for money, (3, 8)/11: 1.36, 3.64 -> 1, 3 + 1; Lotus's -1
    # waits for the line to be paid whole.
    pay(api, cast, invoice["id"], "0.05", "ABC-1")
    assert money(api, holders) == {
        "lotus": ("0.00", "-0.01"),
        "li": ("0.01", "0.02"),
        "wang": ("0.04", "0.04"),
        "platform": ("0.00", "0.01"),
    }
    pay(api, cast, invoice["id"], "0.06", "ABC-2")
    assert invoice_state(api, cast, invoice["id"]) == ("paid", "0.11", "0.00")
    assert money(api, holders) == {
        "lotus": ("-0.01", "0.00"),
        "li": ("0.03", "0.00"),
        "wang": ("0.08", "0.00"),
        "platform": ("0.01", "0.00"),
    }
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


# --- payments naming no invoice, several invoices, credit ---------------------------------


def test_a_payment_naming_no_invoice_pays_the_oldest_due_and_the_rest_is_credit(
    app, api, cast, frozen_clock
):
    # A: 4 boxes at 0.10, Li 4 x 0.06 = 0.24, Lotus 0.16, fee 0.02: 0.42, issued 2 March,
    # due 1 April. B: 3 boxes, Li 0.18, Lotus 0.12, fee 1.5 -> 0.02: 0.32, issued a day
    # later on 10 days' terms, so due 13 March: first, though issued last.
    a = issue(api, cast, lotus_order(api, cast, 4))
    frozen_clock.step(days=1)
    b = issue(api, cast, lotus_order(api, cast, 3, terms=10))
    assert (a["due_on"], a["total"], b["due_on"], b["total"]) == (
        "2026-04-01",
        "0.42",
        "2026-03-13",
        "0.32",
    )
    li = (cast.li, "annotator")

    # 0.20 goes to B alone. B's lines (30, 2)/32: 18.75, 1.25 -> 18 + 1, 1; the items
    # line's 19 over Lotus 12, Li 18 (/30): 7.6, 11.4 -> 7 + 1, 11.
    first = transfer(api, cast, "0.20", "ICBC-1")
    assert first.status == 201, first.body
    assert first.body["invoice_id"] is None
    assert applications(api, cast, first.body["id"]) == [(b["id"], "0.20")]
    assert invoice_state(api, cast, b["id"]) == ("open", "0.20", "0.12")
    assert invoice_state(api, cast, a["id"]) == ("open", "0.00", "0.42")
    assert money(api, {"li": li}) == {"li": ("0.11", "0.31")}

    # 0.80 pays the rest of B, all of A, and leaves 0.26 of credit.
    second = transfer(api, cast, "0.80", "ICBC-2")
    assert second.status == 201, second.body
    assert applications(api, cast, second.body["id"]) == [(b["id"], "0.12"), (a["id"], "0.42")]
    assert (second.body["applied"], second.body["unapplied"]) == ("0.54", "0.26")
    assert invoice_state(api, cast, a["id"]) == ("paid", "0.42", "0.00")
    assert invoice_state(api, cast, b["id"]) == ("paid", "0.32", "0.00")
    assert money(api, {"li": li, "lotus": (cast.owner, "team")}) == {
        "li": ("0.42", "0.00"),
        "lotus": ("0.28", "0.00"),
    }

    # The next invoice (C: 2 boxes, Li 0.12, Lotus 0.08, fee 0.01: 0.21) is paid from the
    # credit the moment it is issued; 0.05 of credit is left.
    frozen_clock.step(days=1)
    c = issue(api, cast, lotus_order(api, cast, 2))
    assert (c["total"], c["status"], c["paid"], c["outstanding"]) == (
        "0.21",
        "paid",
        "0.21",
        "0.00",
    )
    assert c["paid_at"] is not None
    credit = api.get(f"/payments/{second.body['id']}", cast.client).body
    assert (credit["applied"], credit["unapplied"]) == ("0.75", "0.05")
    assert applications(api, cast, credit["id"]) == [
        (b["id"], "0.12"),
        (a["id"], "0.42"),
        (c["id"], "0.21"),
    ]
    assert money(api, {"li": li, "lotus": (cast.owner, "team")}) == {
        "li": ("0.54", "0.00"),
        "lotus": ("0.36", "0.00"),
    }
    assert holding(api, cast.admin, "platform")["available"] == "0.05"
    listed = api.get(f"/invoices/{c['id']}/payments", cast.client).body
    assert [p["id"] for p in listed] == [second.body["id"]]
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_nothing_is_available_before_money_arrives_and_an_overpayment_makes_no_more(
    app, api, cast, frozen_clock
):
    # 7 boxes at 0.10: Li 4 x 0.07 = 0.28, Wang 3 x 0.07 = 0.21, Lotus 0.21, fee 3.5 -> 0.04.
    order_id = lotus_order(api, cast, 7, rate="0.07", li=4, wang=3)
    invoice = issue(api, cast, order_id)
    assert invoice["total"] == "0.74"
    holders = {
        "li": (cast.li, "annotator"),
        "wang": (cast.wang, "annotator"),
        "lotus": (cast.owner, "team"),
        "platform": (cast.admin, "platform"),
    }
    assert money(api, holders) == {
        "li": ("0.00", "0.28"),
        "wang": ("0.00", "0.21"),
        "lotus": ("0.00", "0.21"),
        "platform": ("0.00", "0.04"),
    }
    run = api.post("/payout-runs", cast.admin, {"currency": "CNY"})
    assert (run.status, run.body["payouts"], run.body["total"]) == (201, [], "0.00")

    paid = pay(api, cast, invoice["id"], "1.00", "CCB-9")
    assert (paid["applied"], paid["unapplied"]) == ("0.74", "0.26")
    assert invoice_state(api, cast, invoice["id"]) == ("paid", "0.74", "0.00")
    assert money(api, holders) == {
        "li": ("0.28", "0.00"),
        "wang": ("0.21", "0.00"),
        "lotus": ("0.21", "0.00"),
        "platform": ("0.04", "0.00"),
    }
    # The same transfer reported again is the same payment and writes nothing; the same
    # reference for another amount is another payment, refused.
    before = row_counts(app)
    again = api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": "1.00", "reference": "CCB-9", "received_on": "2026-03-02"},
    )
    assert (again.status, again.body["id"]) == (200, paid["id"])
    other = api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": "0.99", "reference": "CCB-9", "received_on": "2026-03-02"},
    )
    assert (other.status, other.error_code) == (409, "reference_reused")
    assert row_counts(app) == before

    # The payout pays each its share; the client's 0.26 of credit is nobody's earnings.
    run = api.post("/payout-runs", cast.admin, {"currency": "CNY"}).body
    paid_out = {(p["user_id"], p["amount"]) for p in run["payouts"]}
    assert paid_out == {
        (cast.user_ids["li"], "0.28"),
        (cast.user_ids["wang"], "0.21"),
        (None, "0.21"),
    }
    assert run["total"] == "0.70"
    assert ledger_totals(api, cast.admin) == {"CNY": 0}


def test_a_payment_naming_another_clients_or_currencys_invoice_is_refused(
    app, api, cast, frozen_clock
):
    invoice = issue(api, cast, lotus_order(api, cast, 4))
    before = row_counts(app)
    for body in (
        {"client_id": cast.party_ids["acme"]},
        {"currency": "USD"},
    ):
        answer = transfer(api, cast, "0.42", "WIRE-1", invoice_id=invoice["id"], **body)
        assert (answer.status, answer.error_code) == (422, "invoice_mismatch"), answer.body
    assert row_counts(app) == before
    assert invoice_state(api, cast, invoice["id"]) == ("open", "0.00", "0.42")
    assert holding(api, cast.li, "annotator")["available"] == "0.00"

    # The reference was not used up; a USD transfer finds no USD invoice and is credit.
    usd = transfer(api, cast, "5.00", "WIRE-1", currency="USD")
    assert (usd.status, usd.body["applied"], usd.body["unapplied"]) == (201, "0.00", "5.00")
    assert invoice_state(api, cast, invoice["id"]) == ("open", "0.00", "0.42")
    right = transfer(api, cast, "0.42", "WIRE-2", invoice_id=invoice["id"])
    assert right.status == 201 and right.body["invoice_id"] == invoice["id"]
    assert invoice_state(api, cast, invoice["id"]) == ("paid", "0.42", "0.00")
    assert ledger_totals(api, cast.admin) == {"CNY": 0, "USD": 0}


def test_the_answer_to_a_new_payment_says_where_its_money_went(app, api, cast, frozen_clock):
    invoice = issue(api, cast, lotus_order(api, cast, 4))
    posted = pay(api, cast, invoice["id"], "0.50", "BOCOM-7")
    assert (posted["applied"], posted["unapplied"]) == ("0.42", "0.08")
    assert applications(api, cast, posted["id"]) == [(invoice["id"], "0.42")]
    answered = [(a["invoice_id"], a["amount"]) for a in posted["applications"]]
    assert answered == [(invoice["id"], "0.42")]
