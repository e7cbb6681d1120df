"""`marketplace receivables ...`: the admin's receivables desk on the command line.

marketplace receivables aging [--as-of 2026-03-31] [--currency CNY] [--csv]
marketplace receivables chase                  (lift paid-off holds, take due steps, send mail)
marketplace receivables send-mail
marketplace receivables schedule [--set "-3:reminder,1:notice,7:notice" --by EMAIL]
marketplace receivables promise INV-2026-000001 2026-04-10 --by EMAIL [--note ...]
marketplace receivables dispute INV-2026-000001 --reason ... --by EMAIL
marketplace receivables resolve-dispute 7 --resolution ... --by EMAIL
marketplace receivables note INV-2026-000001 "Called, paying Friday" --by EMAIL
marketplace receivables write-off INV-2026-000001 [--amount 10.00] --reason ... --by EMAIL
marketplace receivables hold 3 --reason ... [--lifts-when-paid] --by EMAIL
marketplace receivables lift 3 --reason ... --by EMAIL
marketplace receivables record 3
marketplace receivables audit-log [--action credit_hold.placed] [--limit 50]

Every change names the admin who makes it (`--by`), and lands in the audit log as
that admin's, from the CLI.
"""

import json
from decimal import Decimal, InvalidOperation

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from marketplace.db import unit_of_work
from marketplace.errors import DomainError
from marketplace.identity import audit
from marketplace.identity.service import actor_on_command_line
from marketplace.money import check_currency
from marketplace.notices.mail import SmtpSettings, requeue_failed, send_outbox
from marketplace.payments.models import Invoice
from marketplace.receivables import aging, casework, dunning, holds, record
from marketplace.receivables.chase import chase_receivables
from marketplace.receivables.days import business_today
from marketplace.receivables.models import StepAction

group = AppGroup("receivables", help="Aging, dunning, promises, disputes, holds, records.")
BY = click.option("--by", "by", required=True, help="The e-mail of the platform admin acting.")


def _zone() -> str:
    return current_app.config["BUSINESS_TIMEZONE"]


def _invoice_id(session, reference: str) -> int:
    """An invoice named by its number (INV-2026-000001) or its id."""
    found = session.scalar(select(Invoice.id).where(Invoice.number == reference.strip()))
    if found is None and reference.isdigit():
        found = int(reference)
    if found is None:
        raise click.ClickException(f"no invoice {reference}")
    return found


def _act(use_case) -> object:
    """Run `use_case(session)` in one unit of work; a refusal exits 1 with its code."""
    try:
        with unit_of_work() as session:
            return use_case(session)
    except DomainError as error:
        raise click.ClickException(f"{error.code}: {error.message}") from error


@group.command("aging")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--currency", default=None)
@click.option("--csv", "as_csv", is_flag=True, help="Write the report as CSV.")
def aging_command(as_of, currency, as_csv) -> None:
    """Who owes what, by days past due (default: today)."""
    report = _act(
        lambda session: aging.aging_report(
            session,
            None,
            as_of=as_of.date() if as_of else business_today(_zone()),
            timezone=_zone(),
            currency=check_currency(currency) if currency else None,
        )
    )
    if as_csv:
        click.echo(aging.aging_csv(report), nl=False)
        return
    header = ["client", "currency", *aging.BUCKET_NAMES, "total"]
    click.echo("  ".join(f"{name:>12}" for name in header))
    for row in [*report["clients"], *({**t, "client_name": "TOTAL"} for t in report["totals"])]:
        cells = [row["client_name"][:12], row["currency"], *row["buckets"].values(), row["total"]]
        click.echo("  ".join(f"{cell:>12}" for cell in cells))


@group.command("chase")
def chase_command() -> None:
    """One pass: lift holds paid off, take the dunning steps due today, send the mail."""
    chase = _act(lambda session: chase_receivables(session, today=business_today(_zone())))
    for step in chase.steps:
        click.echo(f"invoice {step.invoice_id}: {step.step.action} {step.outcome}")
    click.echo(f"{len(chase.steps)} steps taken, {len(chase.lifted)} holds lifted")
    _send()


@group.command("send-mail")
@click.option("--retry-failed", is_flag=True, help="Queue the failed e-mails again first.")
def send_mail_command(retry_failed: bool) -> None:
    """Send the outbox's queued e-mails (needs SMTP_HOST)."""
    if retry_failed:
        click.echo(f"{_act(requeue_failed)} failed e-mails queued again")
    _send()


def _send() -> None:
    settings = SmtpSettings.from_config(current_app.config)
    if settings is None:
        click.echo("SMTP_HOST is not set: the e-mails stay in the outbox (GET /api/v1/outbox)")
        return
    counts = send_outbox(settings)
    click.echo(f"mail: {counts['sent']} sent, {counts['failed']} failed")


@group.command("schedule")
@click.option("--set", "steps", default=None, help='e.g. "-3:reminder,1:notice,45:credit_hold"')
@click.option("--by", "by", default=None, help="The admin replacing it (with --set).")
def schedule_command(steps: str | None, by: str | None) -> None:
    """Show the dunning schedule, or replace it."""
    if steps is not None:
        if not by:
            raise click.ClickException("--set needs --by")
        wanted = [_step(text) for text in steps.split(",") if text.strip()]
        _act(
            lambda session: dunning.replace_schedule(
                session, actor_on_command_line(session, by), wanted
            )
        )
    for step in _act(dunning.current_schedule):
        click.echo(f"{step.offset_days:+d} days: {step.action}")


def _step(text: str) -> dict:
    offset, _, action = text.strip().partition(":")
    try:
        return {"offset_days": int(offset), "action": StepAction(action.strip())}
    except ValueError as error:
        raise click.ClickException(f"not a step: {text!r} (offset:action)") from error


@group.command("promise")
@click.argument("invoice")
@click.argument("promised_on", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--note", default="")
@BY
def promise_command(invoice: str, promised_on, note: str, by: str) -> None:
    """Record a client's promise to pay INVOICE by PROMISED_ON: dunning pauses till then."""
    promise = _act(
        lambda session: casework.record_promise(
            session,
            actor_on_command_line(session, by),
            _invoice_id(session, invoice),
            promised_on=promised_on.date(),
            note=note,
            today=business_today(_zone()),
        )
    )
    click.echo(f"promise {promise.id}: pay by {promise.promised_on}")


@group.command("dispute")
@click.argument("invoice")
@click.option("--reason", required=True)
@BY
def dispute_command(invoice: str, reason: str, by: str) -> None:
    """Flag INVOICE as disputed: dunning pauses until the dispute is resolved."""
    dispute = _act(
        lambda session: casework.open_dispute(
            session,
            actor_on_command_line(session, by),
            _invoice_id(session, invoice),
            reason=reason,
        )
    )
    click.echo(f"dispute {dispute.id} opened")


@group.command("resolve-dispute")
@click.argument("dispute_id", type=int)
@click.option("--resolution", required=True)
@BY
def resolve_dispute_command(dispute_id: int, resolution: str, by: str) -> None:
    """Resolve a dispute: dunning resumes if money is still owed."""
    _act(
        lambda session: casework.resolve_dispute(
            session, actor_on_command_line(session, by), dispute_id, resolution=resolution
        )
    )
    click.echo(f"dispute {dispute_id} resolved")


@group.command("note")
@click.argument("invoice")
@click.argument("text")
@BY
def note_command(invoice: str, text: str, by: str) -> None:
    """Note something on INVOICE."""
    note = _act(
        lambda session: casework.add_note(
            session, actor_on_command_line(session, by), _invoice_id(session, invoice), text=text
        )
    )
    click.echo(f"note {note.id} added")


@group.command("write-off")
@click.argument("invoice")
@click.option("--amount", default=None, help="Default: everything still owed.")
@click.option("--reason", required=True)
@BY
def write_off_command(invoice: str, amount: str | None, reason: str, by: str) -> None:
    """Write off what the client will not pay; the holders' pending shares bear it."""
    try:
        exact = Decimal(amount) if amount is not None else None
    except InvalidOperation as error:
        raise click.ClickException(f"not an amount: {amount}") from error
    note = _act(
        lambda session: casework.write_off(
            session,
            actor_on_command_line(session, by),
            _invoice_id(session, invoice),
            amount=exact,
            reason=reason,
            timezone=_zone(),
        )
    )
    click.echo(f"written off by credit note {note.number}")


@group.command("hold")
@click.argument("client_id", type=int)
@click.option("--reason", required=True)
@click.option("--lifts-when-paid", is_flag=True, help="Lift by itself once nothing is overdue.")
@BY
def hold_command(client_id: int, reason: str, lifts_when_paid: bool, by: str) -> None:
    """Put a client on credit hold: no new orders, no drops released."""
    hold = _act(
        lambda session: holds.put_on_hold(
            session,
            actor_on_command_line(session, by),
            client_id,
            reason=reason,
            lifts_when_paid=lifts_when_paid,
        )
    )
    click.echo(f"client {client_id} on hold (hold {hold.id})")


@group.command("lift")
@click.argument("client_id", type=int)
@click.option("--reason", required=True)
@BY
def lift_command(client_id: int, reason: str, by: str) -> None:
    """Lift a client's credit hold now."""
    _act(
        lambda session: holds.lift_client_hold(
            session, actor_on_command_line(session, by), client_id, reason=reason
        )
    )
    click.echo(f"client {client_id}: hold lifted")


@group.command("record")
@click.argument("client_id", type=int)
def record_command(client_id: int) -> None:
    """A client's payment record, as teams see it but with the exact overdue amounts."""
    found = _act(
        lambda session: record.payment_record(
            session, client_id, reader=None, today=business_today(_zone()), timezone=_zone()
        )
    )
    click.echo(json.dumps(found, default=str, indent=2, ensure_ascii=False))


@group.command("audit-log")
@click.option("--action", default=None)
@click.option("--limit", default=50, show_default=True)
def audit_log_command(action: str | None, limit: int) -> None:
    """The latest admin actions: who, when, what."""
    entries = _act(lambda session: audit.latest_entries(session, action=action, limit=limit))
    for entry in entries:
        who = f"user {entry.user_id}" if entry.user_id else entry.source
        click.echo(
            f"{entry.created_at:%Y-%m-%d %H:%M:%S} {who} ({entry.source}) {entry.action} "
            f"{entry.subject_type} {entry.subject_id or ''} {json.dumps(entry.details)}"
        )
