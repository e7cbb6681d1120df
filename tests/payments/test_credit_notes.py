"""Credit notes correct an issued invoice, which is never edited; invoices download as CSV."""

import csv
import io

from tests.flows import holding, invoiced, ledger_totals
from tests.support import row_counts


def test_a_credit_note_lowers_what_is_owed_and_every_pending_share_exactly(
    app, api, cast, frozen_clock
):
    invoice = invoiced(api, cast)  # 1.00 (Li 0.60, Lotus 0.40) + 0.05 fee = 1.05
    before = api.get(f"/invoices/{invoice['id']}", cast.client).body
    note = api.post(
        f"/invoices/{invoice['id']}/credit-notes",
        cast.admin,
        {"amount": "0.35", "reason": "Three boxes billed twice"},
    )
    assert note.status == 201, note.text
    assert (note.body["number"], note.body["amount"]) == ("CN-2026-000001", "0.35")
    after = api.get(f"/invoices/{invoice['id']}", cast.client).body
    # The invoice as issued is untouched; what is owed is lower.
    assert {k: after[k] for k in ("lines", "total", "number")} == {
        k: before[k] for k in ("lines", "total", "number")
    }
    assert (after["credited"], after["outstanding"], after["status"]) == ("0.35", "0.70", "open")
    # 0.35 over the lines 1.00 and 0.05: 0.3333 -> 0.33, 0.0167 -> 0.02 (largest remainder:
    # floors 33 + 1 = 34, the fee's .67 beats the items' .33, so 33 / 2). The items line's
    # 0.33 over Li 0.60 and Lotus 0.40: 19.8 -> 20, 13.2 -> 13.
    assert holding(api, cast.li, "annotator")["pending"] == "0.40"
    assert holding(api, cast.owner, "team")["pending"] == "0.27"
    assert ledger_totals(api, cast.admin) == {"CNY": 0}

    counts = row_counts(app)
    too_much = api.post(
        f"/invoices/{invoice['id']}/credit-notes", cast.admin, {"amount": "0.71", "reason": "x"}
    )
    assert (too_much.status, too_much.error_code) == (409, "credit_exceeds_outstanding")
    assert too_much.body["error"]["details"]["outstanding"] == "0.70"
    assert row_counts(app) == counts

    # The client pays the rest: everyone gets exactly what the corrected invoice owes them.
    paid = api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": "0.70", "reference": "ICBC-7", "received_on": "2026-03-02"},
    )
    assert paid.status == 201
    assert holding(api, cast.li, "annotator")["available"] == "0.40"
    assert holding(api, cast.owner, "team")["available"] == "0.27"
    assert api.get(f"/invoices/{invoice['id']}", cast.client).body["status"] == "paid"
    notes = api.get(f"/invoices/{invoice['id']}/credit-notes", cast.client).body
    assert [(n["number"], n["amount"], n["reason"]) for n in notes] == [
        ("CN-2026-000001", "0.35", "Three boxes billed twice")
    ]
    assert api.get(f"/invoices/{invoice['id']}/credit-notes", cast.rival_client).status == 404
    refused = api.post(
        f"/invoices/{invoice['id']}/credit-notes", cast.client, {"amount": "0.01", "reason": "x"}
    )
    assert refused.status == 403


def test_invoices_download_as_csv(api, cast, frozen_clock):
    invoice = invoiced(api, cast, price="0.055", items=3, rate="0.03")  # 0.165 -> 0.17
    one = api.get(f"/invoices/{invoice['id']}?format=csv", cast.client)
    assert one.status == 200 and one.text.startswith("invoice,issued_at")
    rows = list(csv.DictReader(io.StringIO(one.text)))
    assert [(r["kind"], r["quantity"], r["unit_price"], r["amount"]) for r in rows] == [
        ("items", "3", "0.055", "0.17"),
        ("fee", "", "", "0.01"),
    ]
    assert rows[0]["invoice"] == invoice["number"] and rows[0]["period_start"] == "2026-03-02"
    listed = list(csv.DictReader(io.StringIO(api.get("/invoices?format=csv", cast.client).text)))
    assert [(r["invoice"], r["total"], r["outstanding"], r["status"]) for r in listed] == [
        (invoice["number"], "0.18", "0.18", "open")
    ]
    assert api.get("/invoices?format=csv", cast.rival_client).text.count("\n") == 1  # header
    assert api.get(f"/invoices/{invoice['id']}?format=pdf", cast.client).status == 422
