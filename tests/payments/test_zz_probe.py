from tests.payments.test_settlement import issue, lotus_order, pay
def test_probe(app, api, cast, frozen_clock):
    invoice = issue(api, cast, lotus_order(api, cast, 4))
    posted = pay(api, cast, invoice["id"], "0.20", "X-1")
    got = api.get(f"/payments/{posted['id']}", cast.admin).body
    print("POSTED", posted["applied"], posted["applications"])
    print("GOT", got["applied"], got["applications"])
    again = api.post(f"/invoices/{invoice['id']}/payments", cast.admin, {"amount": "0.20", "reference": "X-1", "received_on": "2026-03-02"})
    print("AGAIN", again.status, again.body["applications"])
    r = api.post(f"/payments/{posted['id']}/reversals", cast.admin, {"kind": "refund", "amount": "0.10", "reference": "R1"})
    print("REV", r.status, r.body)
    got = api.get(f"/payments/{posted['id']}", cast.admin).body
    print("GOT2", got["applied"], got["returned"], got["applications"])
