"""The `marketplace` command: Flask's CLI with Piecework's own commands.

marketplace create-party "Lotus Labeling" --kind team
marketplace create-user li.na@example.com --name "Li Na" --party 2 --role annotator
marketplace create-token li.na@example.com
marketplace seed-demo
marketplace payout-run --currency CNY [--gateway stripe] [--minimum 10.00]
marketplace reconcile --currency CNY --from 2026-03-01 --to 2026-03-31
marketplace send-payouts                       (Stripe transfers left pending by an outage)
marketplace connect-account --party 3          (a Stripe Connect account for a payee)
marketplace release-drops                      (one scheduler pass: leases, then due drops)
marketplace deliver-webhooks                   (attempt the webhook deliveries due now)
marketplace verify-lottery 42                  (re-run drop 42's published lottery)
marketplace import-items 7 items.csv --by EMAIL (add a file's items to order 7)
marketplace serve --host 127.0.0.1 --port 5000   (the API with an embedded scheduler)
marketplace scheduler                          (the scheduler as its own process)
marketplace receivables --help                 (aging, dunning, promises, disputes, holds)
"""

from decimal import Decimal
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select
from werkzeug.serving import run_simple

from marketplace.db import unit_of_work
from marketplace.errors import DomainError
from marketplace.identity import audit
from marketplace.identity import service as identity
from marketplace.identity.models import Party, PartyKind, Role, User
from marketplace.money import check_currency, format_minor
from marketplace.receivables.cli import group as receivables_group


def _fail_cleanly(error: DomainError) -> None:
    raise click.ClickException(f"{error.code}: {error.message}")


def _log(session, action: str, subject: tuple[str, int], **details) -> None:
    """An operator's command in the audit log: from the CLI, by no user of ours."""
    audit.record(session, None, action, subject, source="cli", **details)


@click.command("create-party")
@with_appcontext
@click.argument("name")
@click.option("--kind", type=click.Choice([k.value for k in PartyKind]), required=True)
@click.option("--bank-account", default=None, help="Where payouts to this party go.")
def create_party_command(name: str, kind: str, bank_account: str | None) -> None:
    """Register a client, a team or the platform."""
    with unit_of_work() as session:
        party = identity.create_party(
            session, kind=PartyKind(kind), name=name, bank_account=bank_account
        )
        _log(session, "party.created", ("party", party.id), name=name, kind=kind)
    click.echo(f"party {party.id}: {party.name} ({party.kind})")


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--party", "party_id", type=int, required=True, help="The party the user acts in.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--bank-account", default=None, help="Where an annotator's payouts go.")
def create_user_command(email, name, password, party_id, role, bank_account) -> None:
    """Register a user with a role in a party."""
    try:
        with unit_of_work() as session:
            party = session.get(Party, party_id)
            if party is None:
                raise click.ClickException(f"no party {party_id}")
            user = identity.create_user(
                session, email=email, name=name, password=password, bank_account=bank_account
            )
            identity.add_membership(session, user=user, party=party, role=Role(role))
            _log(session, "user.created", ("user", user.id), email=user.email, role=role)
    except DomainError as error:
        _fail_cleanly(error)
    click.echo(f"user {user.id}: {user.email}, {role} of {party.name}")


@click.command("create-token")
@with_appcontext
@click.argument("email")
@click.option("--name", default="cli", help="What the token is for.")
def create_token_command(email: str, name: str) -> None:
    """Issue a bearer token for a user and print it (it is shown only once)."""
    with unit_of_work() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"no user {email}")
        token = identity.issue_token(session, user, name=name)
        _log(session, "token.issued", ("user", user.id), name=name)
    click.echo(token)


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the demo parties, users and order once, and print a token for each role."""
    from marketplace.demo import DEMO_PASSWORD, DEMO_TOKENS, seed_demo

    with unit_of_work() as session:
        created = seed_demo(session)
    click.echo("Loaded the demo data." if created else "Demo data already loaded; kept as it is.")
    click.echo("Demo tokens (send as 'Authorization: Bearer <token>'):")
    for role, (email, token) in DEMO_TOKENS.items():
        click.echo(f"  {role:<21} {token:<18} {email}")
    click.echo(
        f"Every demo user signs in with the password {DEMO_PASSWORD!r}: on the pages "
        "(/sign-in, with the e-mail above), or for a token (POST /api/v1/auth/tokens)."
    )


@click.command("payout-run")
@with_appcontext
@click.option("--currency", required=True, help="ISO 4217 code, e.g. CNY.")
@click.option("--minimum", type=Decimal, default=None, help="Pay only balances of at least this.")
@click.option(
    "--gateway",
    type=click.Choice(["manual", "stripe"]),
    default="manual",
    show_default=True,
    help="manual: write a bank file; stripe: Connect transfers to payees with an account.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the bank file (default: PAYOUT_FILE_DIR).",
)
def payout_run_command(
    currency: str, minimum: Decimal | None, gateway: str, out_dir: Path | None
) -> None:
    """Pay everyone what is available: a bank CSV file, or Stripe transfers."""
    from marketplace.payments.models import PayoutRun
    from marketplace.payments.payouts import bank_file, run_payouts

    if gateway == "stripe" and current_app.extensions["stripe_gateway"] is None:
        raise click.ClickException("Stripe is not configured: set STRIPE_SECRET_KEY.")
    try:
        with unit_of_work() as session:
            run = run_payouts(
                session, None, currency=check_currency(currency), minimum=minimum, gateway=gateway
            )
            run_id, count, total = run.id, len(run.payouts), run.total_minor
    except (DomainError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"payout run {run_id}: {count} payouts, {format_minor(total, currency)} {currency}")
    if gateway == "stripe":
        _send_with_progress(run_id)
        return
    out_dir = out_dir or Path(current_app.config["PAYOUT_FILE_DIR"])
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"payout-run-{run_id}.csv"
    with unit_of_work() as session:
        path.write_text(bank_file(session.get(PayoutRun, run_id)))
    click.echo(f"bank file {path}")


@click.command("send-payouts")
@with_appcontext
@click.option("--run", "run_id", type=int, default=None, help="Only this run's transfers.")
def send_payouts_command(run_id: int | None) -> None:
    """Send Stripe transfers still pending (after an outage or a crash), each exactly once."""
    _send_with_progress(run_id)


def _send_with_progress(run_id: int | None) -> None:
    from marketplace.payments.transfers import pending_count, send_pending_transfers

    stripe = current_app.extensions["stripe_gateway"]
    if stripe is None:
        raise click.ClickException("Stripe is not configured: set STRIPE_SECRET_KEY.")
    with click.progressbar(length=pending_count(run_id), label="Sending transfers") as bar:
        counts = send_pending_transfers(stripe, run_id=run_id, on_each=lambda _: bar.update(1))
    click.echo(", ".join(f"{n} {status}" for status, n in counts.items()))
    if counts["pending"]:
        raise click.ClickException(
            "Stripe could not be reached; run `marketplace send-payouts` again later."
        )


@click.command("connect-account")
@with_appcontext
@click.option("--party", "party_id", type=int, default=None, help="A team to pay through Stripe.")
@click.option("--user", "user_id", type=int, default=None, help="An annotator to pay so.")
@click.option("--account", default=None, help="An existing Connect account (acct_...).")
@click.option("--country", default=None, help="For a new account, e.g. CN or US.")
def connect_account_command(party_id, user_id, account, country) -> None:
    """Give a team or an annotator a Stripe Connect account (a new one, or --account)."""
    from marketplace.payments.connect import connect_payee

    if (party_id is None) == (user_id is None):
        raise click.ClickException("name exactly one of --party and --user")
    try:
        with unit_of_work() as session:
            payee = connect_payee(
                session,
                current_app.extensions["stripe_gateway"],
                party_id=party_id,
                user_id=user_id,
                account=account,
                country=country,
            )
            subject = ("user", user_id) if user_id else ("party", party_id)
            _log(session, "payee.connected", subject, account=payee.stripe_account)
            click.echo(f"{payee.name}: {payee.stripe_account}")
    except DomainError as error:
        _fail_cleanly(error)


@click.command("reconcile")
@with_appcontext
@click.option("--currency", required=True, help="ISO 4217 code, e.g. CNY.")
@click.option("--from", "since", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "until", type=click.DateTime(["%Y-%m-%d"]), required=True)
def reconcile_command(currency: str, since, until) -> None:
    """Compare what the gateways say arrived with what the ledger settled; exit 1 on any
    mismatch, listing each."""
    from marketplace.payments.reconciliation import reconcile

    with unit_of_work() as session:
        report = reconcile(
            session,
            None,
            current_app.extensions["stripe_gateway"],
            currency=check_currency(currency),
            since=since.date(),
            until=until.date(),
        )
    for gateway, totals in report["gateways"].items():
        click.echo(f"{gateway}: arrived {totals['arrived']}, returned {totals['returned']}")
    click.echo(
        f"ledger: received {report['ledger']['received']}, settled {report['ledger']['settled']}"
    )
    for mismatch in report["mismatches"]:
        click.echo("MISMATCH " + ", ".join(f"{k}={v}" for k, v in mismatch.items()))
    if report["mismatches"]:
        raise SystemExit(1)
    click.echo(f"{report['payments']} payments reconciled, no mismatch.")


@click.command("release-drops")
@with_appcontext
def release_drops_command() -> None:
    """Close expired leases and take every drop that is due, now (one scheduler pass)."""
    from marketplace.scheduler import release_pass

    expired, drops = release_pass()
    for batch in expired:
        click.echo(f"lease expired: batch {batch.id}, {batch.returned_items} items returned")
    for drop in drops:
        lottery = f", lottery seed {drop.lottery_seed}" if drop.lottery_seed else ""
        click.echo(
            f"drop {drop.id} of order {drop.order_id} at {drop.scheduled_at.isoformat()}: "
            f"{drop.status}, {drop.batch_count} batches{lottery}"
            + (f" ({drop.reason})" if drop.reason else "")
        )
    click.echo(f"{len(drops)} drops taken, {len(expired)} leases closed")


@click.command("accept-unreviewed")
@with_appcontext
def accept_unreviewed_command() -> None:
    """Accept the items nobody reviewed within their order's review window, now."""
    from marketplace.workers.review import accept_overdue_work

    with unit_of_work() as session:
        accepted = accept_overdue_work(session)
    click.echo(f"{accepted} items accepted past their review window")


@click.command("deliver-webhooks")
@with_appcontext
def deliver_webhooks_command() -> None:
    """Attempt every webhook delivery that is due, now (one pass of the scheduler's job)."""
    from marketplace.notices.webhooks import deliver_due

    def show(delivery) -> None:
        answer = delivery.last_status_code or delivery.last_error
        event = delivery.event.public_id
        click.echo(f"delivery {delivery.id} of {event}: {delivery.status} ({answer})")

    counts = deliver_due(
        timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"],
        allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE_URLS"],
        on_each=show,
    )
    click.echo("{delivered} delivered, {retrying} to retry, {failed} failed".format(**counts))


@click.command("verify-lottery")
@with_appcontext
@click.argument("drop_id", type=int)
def verify_lottery_command(drop_id: int) -> None:
    """Re-run a drop's published lottery and check that every team got what it should."""
    from marketplace.db import db, find
    from marketplace.orders.lottery import allot
    from marketplace.orders.models import Drop

    drop = find(db.session, Drop, drop_id)
    if drop is None or drop.lottery_seed is None:
        raise click.ClickException(f"drop {drop_id} has no lottery")
    lines = {line.team_party_id: line for line in drop.allotments}
    expected = allot(
        drop.lottery_seed,
        {team: line.allowed for team, line in lines.items()},
        [batch.id for batch in drop.batches],
    )
    click.echo(f"drop {drop.id}, seed {drop.lottery_seed}, {drop.lottery_algorithm}")
    wrong = 0
    for team, line in lines.items():
        same = expected[team] == line.batch_ids
        wrong += not same
        click.echo(
            f"  team {team}: allowed {line.allowed}, got {line.batch_ids}"
            + ("" if same else f", the lottery gives {expected[team]}")
        )
    if wrong:
        raise click.ClickException(f"{wrong} teams' batches differ from the lottery's")
    click.echo("every team got what the lottery gives")


@click.command("import-items")
@with_appcontext
@click.argument("order_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", required=True, help="E-mail of the order's client admin.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default=None,
    help="Default: from the file's name (.csv; .jsonl or .ndjson).",
)
@click.option("--on-duplicate", type=click.Choice(["refuse", "skip"]), default="refuse")
def import_items_command(order_id: int, path: Path, by: str, fmt, on_duplicate: str) -> None:
    """Add the items of a CSV or JSON Lines file to an order, all or none (docs/items.md)."""
    from marketplace.orders.imports import import_items, item_schema_to_import, spool_items

    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    config = current_app.config
    try:
        with unit_of_work() as session:
            actor = identity.actor_on_command_line(session, by)
            item_schema = item_schema_to_import(session, actor, order_id)
        with (
            path.open("rb") as stream,
            click.progressbar(length=path.stat().st_size, label="Reading items") as bar,
            spool_items(
                stream,
                fmt=fmt,
                item_schema=item_schema,
                max_rows=config["ITEMS_IMPORT_MAX_ROWS"],
                # An operator's file is on disk: only the row limit applies.
                max_bytes=path.stat().st_size,
                on_progress=lambda done: bar.update(done - bar.pos),
            ) as spool,
            unit_of_work() as session,
        ):
            record, _ = import_items(session, actor, order_id, spool, on_duplicate=on_duplicate)
    except DomainError as error:
        rows = error.details.get("rows", [])[:10]
        for row in rows:
            click.echo(f"row {row['row']} (line {row['line']}) {row['field']}: {row['message']}")
        _fail_cleanly(error)
    click.echo(
        f"order {order_id}: {record.items_added} items added from {record.rows_read} rows, "
        f"{record.duplicates_skipped} duplicates skipped, {record.batches_created} new "
        f"batches; quantity {record.quantity}"
    )


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve_command(host: str, port: int) -> None:
    """Serve the pages and the API with an embedded scheduler (the demo; use gunicorn in
    production)."""
    from marketplace.scheduler import start_embedded

    app = current_app._get_current_object()
    scheduler = start_embedded(app)
    click.echo(
        f"Pages: http://{host}:{port}/sign-in (in Chinese or English; a phone works too). "
        "Sign in with a demo user's e-mail and the password above: li.na@... for an "
        "annotator's work and earnings, reviewer@... for the review queue, owner@... for "
        "the drop board, the chain and the team."
    )
    click.echo(
        f"API docs: http://{host}:{port}/api/docs   scheduler: {len(scheduler.get_jobs())} jobs"
    )
    try:
        run_simple(host, port, app, threaded=True)
    finally:
        scheduler.shutdown(wait=False)


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduled jobs in this process until interrupted (production)."""
    from marketplace.scheduler import run_forever

    click.echo("scheduler running; Ctrl+C stops it")
    run_forever(current_app._get_current_object())


def register_commands(app: Flask) -> None:
    for command in (
        create_party_command,
        create_user_command,
        create_token_command,
        seed_demo_command,
        payout_run_command,
        reconcile_command,
        send_payouts_command,
        connect_account_command,
        release_drops_command,
        accept_unreviewed_command,
        deliver_webhooks_command,
        verify_lottery_command,
        import_items_command,
        serve_command,
        scheduler_command,
    ):
        app.cli.add_command(command)
    app.cli.add_command(receivables_group)


def main() -> None:
    from marketplace import create_app

    FlaskGroup(create_app=create_app, add_version_option=False)(prog_name="marketplace")
