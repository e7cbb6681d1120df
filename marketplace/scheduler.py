"""APScheduler wiring. Each job runs one service function in one unit of work.

Jobs live in the application database (APScheduler's SQLAlchemy job store,
table `apscheduler_jobs`, created by a migration). `marketplace scheduler` runs
them in a process of their own; `marketplace serve` (what `make run` starts)
runs an embedded scheduler beside the API.

For drills and tests, two settings (config.py, README "Scheduled jobs") let a real
scheduler process run on a controlled clock: `CLOCK_FILE` makes `clock.now()` read
the moment from a file, and `RELEASE_CHECK_SECONDS` looks for due drops every that
many (real) seconds instead of once a minute, so stepping the file's clock shows
each drop within seconds. Unset, the scheduler runs on the system clock and the
every-minute cron, as in production.
"""

import logging
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app

from marketplace import clock
from marketplace.db import db, unit_of_work
from marketplace.notices.mail import SmtpSettings, send_outbox
from marketplace.notices.webhooks import deliver_due
from marketplace.orders.announce import warn_expiring_leases
from marketplace.orders.drop_mail import remind_owners_of_drops
from marketplace.orders.drops import release_due_batches
from marketplace.orders.models import Batch, Drop
from marketplace.payments.invoices import Terms, invoice_all_accepted_work, settle_funded_work
from marketplace.payments.transfers import send_pending_transfers
from marketplace.receivables.chase import chase_receivables
from marketplace.receivables.days import business_today
from marketplace.receivables.holds import lift_paid_holds
from marketplace.workers.leases import return_expired_batches
from marketplace.workers.review import accept_overdue_work
from marketplace.workers.tasks import return_expired_tasks

log = logging.getLogger(__name__)
JOB_TABLE = "apscheduler_jobs"
_app: Flask | None = None


def release_pass() -> tuple[list[Batch], list[Drop]]:
    """Close expired batch leases and return tasks held past their own lease, then take
    every drop that is due, so returned items go out in it; each step in its own unit of
    work. Needs an application context."""
    with unit_of_work() as session:
        expired = return_expired_batches(session)
        tasks = return_expired_tasks(session)
    if tasks:
        log.info("returned %d tasks whose lease expired", tasks)
    with unit_of_work() as session:
        drops = release_due_batches(session)
    return expired, drops


def release_drops() -> None:
    """Every minute, on the minute (or every RELEASE_CHECK_SECONDS): one release pass."""
    at = clock.now()
    with _app.app_context():
        expired, drops = release_pass()
    # Logged once committed, with the clock's moment, so a drill can follow every pass.
    log.debug("release pass at %s took %d drops", at.isoformat(), len(drops))
    if expired:
        log.info("closed %d batches whose lease expired", len(expired))
    if drops:
        log.info("took %d drops", len(drops))


def invoice_accepted_work() -> None:
    """Nightly: invoice every order's accepted, unbilled items."""
    with _app.app_context(), unit_of_work() as session:
        invoices = invoice_all_accepted_work(session, Terms.from_config(current_app.config))
        log.info("invoiced %d orders", len(invoices))


def settle_funded_orders() -> None:
    """Every 10 minutes: funded orders' newly accepted work, settled from their reservations."""
    with _app.app_context(), unit_of_work() as session:
        statements = settle_funded_work(session, Terms.from_config(current_app.config))
    if statements:
        log.info("settled the accepted work of %d funded orders", len(statements))


def accept_unreviewed_work() -> None:
    """Hourly: accept the items nobody reviewed within their order's review window."""
    with _app.app_context(), unit_of_work() as session:
        accepted = accept_overdue_work(session)
    if accepted:
        log.info("accepted %d items past their review window", accepted)


def send_pending_payouts() -> None:
    """Every 15 minutes: send Stripe transfers an outage or a crash left pending (each
    once: the idempotency key is the transfer's). Nothing to do without Stripe."""
    with _app.app_context():
        stripe = current_app.extensions["stripe_gateway"]
        if stripe is None:
            return
        counts = send_pending_transfers(stripe)
    if counts["sent"] or counts["failed"]:
        log.info("payout transfers: %d sent, %d failed", counts["sent"], counts["failed"])


def chase_overdue_invoices() -> None:
    """Daily at 09:00 business time: lift holds paid off, take the dunning steps due."""
    with _app.app_context(), unit_of_work() as session:
        chase = chase_receivables(session, today=business_today(_app.config["BUSINESS_TIMEZONE"]))
    log.info("dunning: %d steps taken, %d holds lifted", len(chase.steps), len(chase.lifted))


def lift_holds_paid_off() -> None:
    """Every 5 minutes: a client whose overdue invoices are paid is off hold soon after."""
    with _app.app_context(), unit_of_work() as session:
        lifted = lift_paid_holds(session, today=business_today(_app.config["BUSINESS_TIMEZONE"]))
    if lifted:
        log.info("lifted %d credit holds: their overdue invoices are paid", len(lifted))


def send_mail() -> None:
    """Every minute: send the outbox's e-mails, when SMTP is configured."""
    settings = SmtpSettings.from_config(_app.config)
    if settings is None:
        return
    with _app.app_context():
        counts = send_outbox(settings)
    if counts["sent"] or counts["failed"]:
        log.info("mail: %d sent, %d failed", counts["sent"], counts["failed"])


def deliver_webhooks() -> None:
    """Every minute: attempt the webhook deliveries that are due (notices/webhooks.py)."""
    with _app.app_context():
        counts = deliver_due(
            timeout=_app.config["WEBHOOK_TIMEOUT_SECONDS"],
            allow_private=_app.config["WEBHOOK_ALLOW_PRIVATE_URLS"],
        )
    if any(counts.values()):
        log.info(
            "webhooks: %(delivered)d delivered, %(retrying)d retrying, %(failed)d failed", counts
        )


def notices_ahead() -> None:
    """Every minute: warn teams of batch leases ending within the hour, and e-mail the
    owners who asked ahead of the drops their teams may claim."""
    with _app.app_context(), unit_of_work() as session:
        leases = warn_expiring_leases(session)
        reminders = remind_owners_of_drops(session)
    if leases or reminders:
        log.info("notices: %d leases ending, %d drop e-mails queued", leases, reminders)


def configure(scheduler: BaseScheduler, app: Flask) -> BaseScheduler:
    """Point a scheduler that is not running yet at the app's database, with the jobs."""
    global _app
    _app = app
    with app.app_context():
        engine = db.engine
    zone = ZoneInfo(app.config["BUSINESS_TIMEZONE"])
    if app.config.get("CLOCK_FILE"):
        clock.set_source(clock.file_source(app.config["CLOCK_FILE"]))
        log.warning("clock: reading the time from %s (CLOCK_FILE)", app.config["CLOCK_FILE"])
    scheduler.configure(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
        job_defaults={"coalesce": True, "misfire_grace_time": 3600},
        timezone=zone,
    )
    declare_jobs(scheduler, zone, release_check_seconds=app.config.get("RELEASE_CHECK_SECONDS"))
    return scheduler


# The other jobs: their ids, what each runs, and when (cron fields, in business time).
CRON_JOBS = (
    ("invoice-accepted-work", invoice_accepted_work, {"hour": 0, "minute": 30}),
    ("settle-funded-work", settle_funded_orders, {"minute": "*/10"}),
    ("accept-unreviewed-work", accept_unreviewed_work, {"minute": 15}),
    ("send-pending-payouts", send_pending_payouts, {"minute": "*/15"}),
    ("chase-receivables", chase_overdue_invoices, {"hour": 9, "minute": 0}),
    ("lift-paid-holds", lift_holds_paid_off, {"minute": "*/5"}),
    ("send-mail", send_mail, {"second": 30}),
    ("deliver-webhooks", deliver_webhooks, {"second": 40}),
    ("notices-ahead", notices_ahead, {"second": 20}),
)


def declare_jobs(
    scheduler: BaseScheduler, zone: ZoneInfo, *, release_check_seconds: int | None = None
) -> None:
    """Add the jobs, replacing stored ones of the same id (so restarts never duplicate).

    The stored job is what every scheduler sharing the database runs, so the last one to
    start decides the trigger: give all of them the same RELEASE_CHECK_SECONDS."""
    scheduler.add_job(
        release_drops,
        IntervalTrigger(seconds=release_check_seconds, timezone=zone)
        if release_check_seconds
        else CronTrigger(second=0, timezone=zone),
        id="release-drops",
        replace_existing=True,
    )
    for job_id, job, when in CRON_JOBS:
        scheduler.add_job(job, CronTrigger(timezone=zone, **when), id=job_id, replace_existing=True)


def start_embedded(app: Flask) -> BaseScheduler:
    """A scheduler on a background thread of this process (the demo server)."""
    scheduler = configure(BackgroundScheduler(), app)
    scheduler.start()
    return scheduler


def run_forever(app: Flask) -> None:
    """The scheduler as its own process, until interrupted, logging what each job did."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    configure(BlockingScheduler(), app).start()
