"""`marketplace receivables ...`: the admin's desk on the command line, each change in the
audit log as the named admin's, from the CLI."""

import csv
import io

from tests.flows import invoiced
from tests.receivables.worlds import stand_on, use_schedule

ADMIN = "admin@example.com"


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=["receivables", *args])


def test_an_admin_chases_an_invoice_from_the_command_line(app, api, cast, frozen_clock):
    use_schedule(api, cast.admin)
    invoice = invoiced(api, cast)  # 1.05, due 2026-04-01
    number, horizon = invoice["number"], cast.party_ids["horizon"]

    stand_on(frozen_clock, invoice, 7)
    chased = run(app, "chase")
    assert chased.exit_code == 0, chased.output
    assert chased.output.splitlines() == [
        f"invoice {invoice['id']}: reminder superseded",
        f"invoice {invoice['id']}: notice superseded",
        f"invoice {invoice['id']}: notice sent",
        "3 steps taken, 0 holds lifted",
        "SMTP_HOST is not set: the e-mails stay in the outbox (GET /api/v1/outbox)",
    ]
    assert run(app, "chase").output.startswith("0 steps taken")

    aging = run(app, "aging", "--csv")
    assert aging.exit_code == 0, aging.output
    rows = list(csv.DictReader(io.StringIO(aging.output)))
    assert [(r["client"], r["1_30"], r["total"]) for r in rows] == [
        ("Horizon", "1.05", "1.05"),
        ("TOTAL", "1.05", "1.05"),
    ]

    promised = run(app, "promise", number, "2026-04-20", "--note", "CFO on it", "--by", ADMIN)
    assert promised.exit_code == 0 and "pay by 2026-04-20" in promised.output
    noted = run(app, "note", number, "Called the CFO", "--by", ADMIN)
    assert noted.exit_code == 0, noted.output
    held = run(app, "hold", str(horizon), "--reason", "slow payer", "--by", ADMIN)
    assert held.exit_code == 0, held.output
    again = run(app, "hold", str(horizon), "--reason", "slow payer", "--by", ADMIN)
    assert again.exit_code == 1 and "already_on_hold" in again.output
    assert '"reason": "slow payer"' in run(app, "record", str(horizon)).output
    lifted = run(app, "lift", str(horizon), "--reason", "promise made", "--by", ADMIN)
    assert lifted.exit_code == 0, lifted.output

    written = run(app, "write-off", number, "--amount", "0.05", "--reason", "fee", "--by", ADMIN)
    assert written.output == "written off by credit note CN-2026-000001\n"
    assert api.get(f"/invoices/{invoice['id']}", cast.admin).body["outstanding"] == "1.00"

    log = api.get("/audit-log", cast.admin).body
    assert [(e["action"], e["source"], e["user_id"]) for e in log] == [
        ("dunning.schedule_replaced", "api", cast.user_ids["admin"]),
        ("invoice.issued", "api", cast.user_ids["admin"]),
        ("promise.recorded", "cli", cast.user_ids["admin"]),
        ("invoice.noted", "cli", cast.user_ids["admin"]),
        ("credit_hold.placed", "cli", cast.user_ids["admin"]),
        ("credit_hold.lifted", "cli", cast.user_ids["admin"]),
        ("invoice.written_off", "cli", cast.user_ids["admin"]),
    ]
    newest = run(app, "audit-log", "--limit", "1").output
    assert "invoice.written_off" in newest and "(cli)" in newest


def test_the_command_line_refuses_whoever_is_no_admin_and_writes_nothing(
    app, api, cast, frozen_clock
):
    invoice = invoiced(api, cast)
    before = api.get("/audit-log", cast.admin).body
    client = run(app, "note", invoice["number"], "x", "--by", "client@example.com")
    assert client.exit_code == 1 and "forbidden" in client.output
    nobody = run(app, "note", invoice["number"], "x", "--by", "nobody@example.com")
    assert nobody.exit_code == 1 and "user_not_found" in nobody.output
    unnamed = run(app, "note", invoice["number"], "x")
    assert unnamed.exit_code == 2 and "--by" in unnamed.output
    unknown = run(app, "note", "INV-1999-000001", "x", "--by", ADMIN)
    assert unknown.exit_code == 1 and "no invoice INV-1999-000001" in unknown.output
    assert api.get("/audit-log", cast.admin).body == before


def test_the_schedule_is_shown_and_replaced_from_the_command_line(app, api, cast):
    use_schedule(api, cast.admin)
    shown = run(app, "schedule")
    assert shown.output.splitlines() == [
        "-3 days: reminder",
        "+1 days: notice",
        "+7 days: notice",
        "+14 days: notice",
        "+30 days: escalation",
        "+45 days: credit_hold",
    ]
    replaced = run(app, "schedule", "--set", "-2:reminder, 10:notice", "--by", ADMIN)
    assert replaced.output.splitlines() == ["-2 days: reminder", "+10 days: notice"]
    bad = run(app, "schedule", "--set", "10:phone_call", "--by", ADMIN)
    assert bad.exit_code == 1 and "not a step" in bad.output
    assert [s["offset_days"] for s in api.get("/dunning/steps", cast.admin).body] == [-2, 10]
