"""Who reads which results: the client the whole order, each team its own work, and
results follow the money while the client is on credit hold."""

import json

import pytest

from tests.flows import claim, post_order, review, set_rate, submit
from tests.results.kit import export, lines

pytestmark = pytest.mark.slow


def refs(answer) -> list[str]:
    """The refs of a JSON Lines answer (ours, or Flask's with the headers), in order."""
    return [json.loads(line)["ref"] for line in answer.text.splitlines()]


def test_each_team_reads_its_own_work_and_the_client_all_of_it(app, api, cast, frozen_clock):
    order_id = post_order(api, cast.client, items=4, batch_size=2)
    claim(api, cast.owner, order_id, batches=1)
    claim(api, cast.rival_owner, order_id, batches=1)
    set_rate(api, cast.owner, order_id, "0.06")
    set_rate(api, cast.rival_owner, order_id, "0.05")
    review(api, cast.reviewer, accept=submit(api, cast.li, 2))
    review(api, cast.rival_reviewer, accept=submit(api, cast.rival_annotator, 2))
    lotus, tiger = (
        ["s3://set/000000.jpg", "s3://set/000001.jpg"],
        [
            "s3://set/000002.jpg",
            "s3://set/000003.jpg",
        ],
    )

    assert refs(export(api, cast.client, order_id)) == lotus + tiger
    assert refs(export(api, cast.owner, order_id)) == lotus
    assert refs(export(api, cast.rival_owner, order_id)) == tiger
    assert export(api, cast.admin, order_id).text == export(api, cast.client, order_id).text
    coco = export(api, cast.owner, order_id, "format=coco").body
    assert [image["file_name"] for image in coco["images"]] == lotus
    # The same pseudonyms as the client reads, and nothing of money.
    assert lines(export(api, cast.owner, order_id)) == lines(export(api, cast.client, order_id))[:2]
    for token in (cast.reviewer, cast.li, cast.rival_reviewer, cast.rival_annotator):
        assert export(api, token, order_id, status=403).body["error"]["code"] == "forbidden"
    assert export(api, cast.rival_client, order_id, status=404).body["error"]["code"] == (
        "order_not_found"
    )


def test_overdue_items_wait_for_the_money_while_the_client_is_on_credit_hold(
    app, api, cast, frozen_clock
):
    order_id = post_order(api, cast.client, items=3, batch_size=3, payment_terms_days=30)
    claim(api, cast.owner, order_id)
    set_rate(api, cast.owner, order_id, "0.06")
    done = submit(api, cast.li, 3)
    review(api, cast.reviewer, accept=done[:2])
    invoice = api.post(f"/orders/{order_id}/invoices", cast.admin).body
    review(api, cast.reviewer, accept=done[2:])  # after the invoice: not billed yet
    everything = ["s3://set/000000.jpg", "s3://set/000001.jpg", "s3://set/000002.jpg"]

    # Overdue, but no hold: a client in good standing gets everything accepted.
    frozen_clock.stand_at("2026-04-10T10:00:00+08:00")
    assert refs(export(api, cast.client, order_id)) == everything

    horizon = cast.party_ids["horizon"]
    placed = api.post(
        f"/clients/{horizon}/credit-holds",
        cast.admin,
        {"reason": "INV overdue", "lifts_when_paid": False},
    )
    assert placed.status == 201, placed.body
    held = api.client.get(
        f"/api/v1/orders/{order_id}/results",
        headers={"Authorization": f"Bearer {cast.client}"},
    )
    assert held.headers["Piecework-Held-Back"] == "2"
    assert held.headers["Piecework-Held-Back-Invoices"] == invoice["number"]
    assert refs(held) == everything[2:]
    assert (
        export(api, cast.client, order_id, "format=coco").body["images"][0]["file_name"]
        == (everything[2])
    )
    assert export(api, cast.client, order_id, "status=all").text.count("\n") == 1
    # The team's own work is its own: no invoice of the client holds it back.
    owner = api.client.get(
        f"/api/v1/orders/{order_id}/results", headers={"Authorization": f"Bearer {cast.owner}"}
    )
    assert owner.headers["Piecework-Held-Back"] == "0"
    assert refs(owner) == everything

    paid = api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": invoice["total"], "reference": "TT-1", "received_on": "2026-04-10"},
    )
    assert paid.status == 201, paid.body
    released = api.client.get(
        f"/api/v1/orders/{order_id}/results",
        headers={"Authorization": f"Bearer {cast.client}"},
    )
    assert released.headers["Piecework-Held-Back"] == "0"
    assert "Piecework-Held-Back-Invoices" not in released.headers
    assert refs(released) == everything
