"""The `marketplace` command: users and tokens, the demo, payout runs with their bank file."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from marketplace import clock
from marketplace.db import db, unit_of_work
from marketplace.demo import DEMO_TOKENS
from marketplace.identity.models import AuditEntry
from marketplace.orders.models import Drop
from tests.flows import claim, holding, post_order, review, set_rate, submit


def test_a_user_created_on_the_command_line_can_log_in_with_its_token(app, api):
    runner = app.test_cli_runner()
    party = runner.invoke(args=["create-party", "Lotus", "--kind", "team"])
    assert party.exit_code == 0, party.output
    party_id = party.output.split()[1].rstrip(":")
    made = runner.invoke(
        args=[
            "create-user",
            "li@example.com",
            "--name",
            "Li",
            "--party",
            party_id,
            "--role",
            "annotator",
            "--password",
            "long enough",
        ]
    )
    assert made.exit_code == 0, made.output
    token = runner.invoke(args=["create-token", "li@example.com"]).output.strip()
    assert api.get("/me", token).body["memberships"][0]["role"] == "annotator"
    # Each operator's command is in the audit log, from the CLI, by no user of ours.
    with app.app_context():
        logged = db.session.execute(
            select(AuditEntry.action, AuditEntry.source, AuditEntry.user_id).order_by(AuditEntry.id)
        ).all()
    assert logged == [
        ("party.created", "cli", None),
        ("user.created", "cli", None),
        ("token.issued", "cli", None),
    ]

    refused = runner.invoke(
        args=[
            "create-user",
            "x@example.com",
            "--name",
            "X",
            "--party",
            party_id,
            "--role",
            "client_admin",
            "--password",
            "long enough",
        ]
    )
    assert refused.exit_code != 0 and "role_not_for_party" in refused.output
    assert (
        api.post("/auth/tokens", json={"email": "x@example.com", "password": "long enough"}).status
        == 401
    )


def test_the_demo_loads_once_and_its_tokens_work(app, api):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and "Loaded the demo data." in first.output
    again = runner.invoke(args=["seed-demo"])
    assert "already loaded" in again.output
    for _email, token in DEMO_TOKENS.values():
        assert token in again.output and api.get("/me", token).status == 200
    client = DEMO_TOKENS["client_admin"][1]
    boxes, ratings, parking, *work, signs = api.get("/orders", client).body
    assert (boxes["quantity"], boxes["unit_price"], boxes["status"]) == (2000, "0.1", "published")
    assert {b["status"] for b in api.get(f"/orders/{boxes['id']}/batches", client).body} == {
        "released"
    }
    assert ratings["release_plan"]["cron"] == "*/5 * * * *"
    upcoming = api.get(f"/orders/{ratings['id']}/drops", client).body["upcoming"]
    assert [drop["batch_count"] for drop in upcoming] == [1] * 5
    # The three-link chain: Horizon -> Apex 0.10 -> Bridge 0.08 -> Lotus 0.055.
    contracts = api.get("/contracts", DEMO_TOKENS["team_owner"][1]).body
    [lotus] = [c for c in contracts if c["order_id"] == parking["id"]]
    chain = api.get(f"/contracts/{lotus['id']}/chain", client).body
    assert [link["downstream_name"] for link in chain["links"]] == [
        "Apex Data",
        "Bridge Annotation",
        "Lotus Labeling",
    ]
    assert (chain["depth"], chain["pass_through"], lotus["unit_price"]) == (3, "0.5500", "0.055")
    assert parking["sourcing"] == "bids"
    # Li's last fortnight for Nova Robotics at her 0.045 a box, one box in fifteen rejected:
    # 104 boxes paid out, 122 paid by Nova and available, 73 on the open invoice.
    [li] = api.get("/me/earnings", DEMO_TOKENS["annotator"][1]).body["holdings"]
    assert (li["paid"], li["available"], li["pending"]) == ("4.68", "5.49", "3.29")
    assert {w["client_name"] for w in li["waiting_on"]} == {"Nova Robotics"}
    today = clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    period = f"from={today - timedelta(days=30)}&to={today}"
    hourly = api.get(f"/me/earnings/hourly?{period}", DEMO_TOKENS["annotator"][1]).body
    [boxes_hour] = hourly["task_types"]
    assert boxes_hour["pay"]["seconds_per_item"] == "44"  # her median pace
    # The workspace's own work, on the demo's media: Lotus claimed it, Li Na may take it.
    assert [o["task_type"] for o in work] == ["bbox_2d", "rating_1_5", "audio_score_0_2"]
    taken = api.post("/tasks/next", DEMO_TOKENS["annotator"][1], {"count": 20}).body
    assert [t["item_ref"] for t in taken][:1] == ["/pages/static/demo/street-1.png"]
    assert len(taken) == 11
    # The owner's board counts down to a drop at 03:00 in Shanghai (demo_board.py).
    assert (signs["release_plan"]["cron"], signs["release_plan"]["timezone"]) == (
        "0 3 * * *",
        "Asia/Shanghai",
    )
    assert lotus["below_cost_floor"] is True  # Lotus's floor is 0.06 a box


def test_a_payout_run_writes_the_bank_file_and_pays_once(app, api, cast, tmp_path):
    order_id = post_order(api, cast.client, items=5, batch_size=5)
    claim(api, cast.owner, order_id)
    set_rate(api, cast.owner, order_id, "0.06")
    review(api, cast.reviewer, accept=submit(api, cast.li, 5))
    invoice = api.post(f"/orders/{order_id}/invoices", cast.admin).body  # 0.50 + 0.03 fee
    api.post(
        f"/invoices/{invoice['id']}/payments",
        cast.admin,
        {"amount": invoice["total"], "reference": "T-1", "received_on": "2026-03-03"},
    )

    runner = app.test_cli_runner()
    ran = runner.invoke(args=["payout-run", "--currency", "CNY", "--out", str(tmp_path)])
    assert ran.exit_code == 0, ran.output
    assert "2 payouts, 0.50 CNY" in ran.output
    [bank_file] = tmp_path.iterdir()
    rows = sorted(line.split(",")[1:5] for line in bank_file.read_text().splitlines()[1:])
    assert rows == [["Li", "BANK-LI", "CNY", "0.30"], ["Lotus", "BANK-LOTUS", "CNY", "0.20"]]
    assert holding(api, cast.li, "annotator")["paid"] == "0.30"

    again = runner.invoke(args=["payout-run", "--currency", "CNY", "--out", str(tmp_path)])
    assert "0 payouts, 0.00 CNY" in again.output
    refused = runner.invoke(args=["payout-run", "--currency", "XYZ"])
    assert refused.exit_code != 0 and "ISO 4217" in refused.output


def test_release_drops_takes_a_lottery_drop_and_verify_lottery_reruns_it(
    app, api, cast, frozen_clock
):
    frozen_clock.stand_at("2026-03-02T18:00:00+08:00")
    plan = {"cron": "0 3 * * *", "timezone": "Asia/Shanghai", "batches_per_drop": 3}
    order = post_order(
        api, cast.client, items=20, batch_size=5, release_plan=plan, claim_mode="lottery"
    )
    api.put(f"/orders/{order}/interest", cast.owner, {"batches": 2})
    api.put(f"/orders/{order}/interest", cast.rival_owner, {"batches": 2})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["release-drops"]).output.endswith("0 drops taken, 0 leases closed\n")

    frozen_clock.stand_at("2026-03-03T03:00:00+08:00")
    taken = runner.invoke(args=["release-drops"])
    assert taken.exit_code == 0, taken.output
    assert "released, 3 batches, lottery seed" in taken.output
    drop_id = int(taken.output.split()[1])
    checked = runner.invoke(args=["verify-lottery", str(drop_id)])
    assert checked.exit_code == 0, checked.output
    assert checked.output.endswith("every team got what the lottery gives\n")

    # A tampered allotment is caught.
    with app.app_context(), unit_of_work() as session:
        drop = session.get(Drop, drop_id)
        line = drop.allotments[0]
        line.batch_ids = [*line.batch_ids[1:], 0]
    tampered = runner.invoke(args=["verify-lottery", str(drop_id)])
    assert tampered.exit_code == 1
    assert "1 teams' batches differ from the lottery's" in tampered.output
