"""Invoices follow the client's billing period: weekly on Mondays, monthly on the 1st, or
when the order completes; one line per period, and nothing billed twice after downtime."""

from marketplace.db import unit_of_work
from marketplace.payments.invoices import Terms, invoice_all_accepted_work
from tests.flows import BOXES, claim, holding, post_order, review, set_rate, submit

TERMS = Terms(fee_bps=500, timezone="Asia/Shanghai")


def run_job(app) -> list[tuple[int, list]]:
    """The nightly job; (order, [(period start, end, quantity, amount)]) per invoice cut."""
    with app.app_context(), unit_of_work() as session:
        return [
            (
                invoice.order_id,
                [
                    (str(line.period_start), str(line.period_end), line.quantity, line.amount_minor)
                    for line in invoice.lines
                    if line.kind == "items"
                ],
            )
            for invoice in invoice_all_accepted_work(session, TERMS)
        ]


def accept(api, cast, count: int) -> None:
    review(api, cast.reviewer, accept=submit(api, cast.li, count))


def test_a_weekly_order_is_invoiced_on_monday_for_the_week_before(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-04T10:00:00+08:00")  # a Wednesday
    order = post_order(api, cast.client, items=10, batch_size=10)  # weekly: the default
    claim(api, cast.owner, order)
    set_rate(api, cast.owner, order, "0.06")
    accept(api, cast, 2)
    frozen_clock.stand_at("2026-03-08T23:59:59+08:00")  # Sunday, the week's last second
    accept(api, cast, 1)
    assert run_job(app) == []  # the week is not over
    frozen_clock.stand_at("2026-03-09T00:30:00+08:00")  # Monday
    accept(api, cast, 4)  # this week's: billed next Monday
    assert run_job(app) == [(order, [("2026-03-02", "2026-03-08", 3, 30)])]
    assert run_job(app) == []
    assert holding(api, cast.li, "annotator")["unbilled"]["items"] == 4


def test_after_downtime_each_missed_week_is_a_line_of_one_invoice(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-04T10:00:00+08:00")
    order = post_order(api, cast.client, items=10, batch_size=10, price="0.055")
    claim(api, cast.owner, order)
    set_rate(api, cast.owner, order, "0.03")
    accept(api, cast, 1)  # week of 03-02: 1 x 0.055 -> 0.06 (rounded on its own line)
    frozen_clock.stand_at("2026-03-11T10:00:00+08:00")
    accept(api, cast, 1)  # week of 03-09: 0.06
    frozen_clock.stand_at("2026-03-24T00:30:00+08:00")  # the job was down for two Mondays
    [(invoiced, lines)] = run_job(app)
    assert (invoiced, lines) == (
        order,
        [("2026-03-02", "2026-03-08", 1, 6), ("2026-03-09", "2026-03-15", 1, 6)],
    )
    # Per period, her pay is rounded per line too: 0.03 + 0.03, and Lotus keeps 0.03 + 0.03.
    assert holding(api, cast.li, "annotator")["pending"] == "0.06"
    assert holding(api, cast.owner, "team")["pending"] == "0.06"


def test_an_order_billed_on_completion_waits_for_its_last_item(app, api, cast, frozen_clock):
    frozen_clock.stand_at("2026-03-04T10:00:00+08:00")
    order = post_order(api, cast.client, items=3, batch_size=3, billing_period="on_completion")
    monthly = post_order(api, cast.client, items=2, batch_size=2, billing_period="monthly")
    claim(api, cast.owner, order)
    claim(api, cast.owner, monthly)
    set_rate(api, cast.owner, order, "0.06")
    set_rate(api, cast.owner, monthly, "0.06")
    tasks = api.post("/tasks/next", cast.li, {"count": 5}).body
    done = {}
    for task in tasks:
        answer = api.post(f"/tasks/{task['id']}/submit", cast.li, {"result": BOXES})
        assert answer.status == 201, answer.text
        done.setdefault(task["order_id"], []).append(answer.body["id"])
    frozen_clock.stand_at("2026-04-02T10:00:00+08:00")
    assert run_job(app) == []  # nothing of either was accepted yet
    review(api, cast.reviewer, accept=done[order][:2] + done[monthly])
    frozen_clock.stand_at("2026-05-01T00:30:00+08:00")
    assert run_job(app) == [(monthly, [("2026-04-01", "2026-04-30", 2, 20)])]
    review(api, cast.reviewer, accept=done[order][2:])
    assert run_job(app) == [(order, [("None", "None", 3, 30)])]
