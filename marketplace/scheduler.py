"""APScheduler wiring. Each job runs one service function in one unit of work.

Jobs live in the application database (APScheduler's SQLAlchemy job store,
table `apscheduler_jobs`, created by a migration). `marketplace scheduler` runs
them in a process of their own; `marketplace serve` (what `make run` starts)
runs an embedded scheduler beside the API.
"""

import logging
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask, current_app

from marketplace.db import db, unit_of_work
from marketplace.orders.drops import release_due_batches
from marketplace.payments.invoices import Terms, invoice_all_accepted_work

log = logging.getLogger(__name__)
JOB_TABLE = "apscheduler_jobs"
_app: Flask | None = None


def release_drops() -> None:
    """Every minute, on the minute: release the batches of every drop that is due."""
    with _app.app_context(), unit_of_work() as session:
        drops = release_due_batches(session)
        if drops:
            log.info("took %d drops", len(drops))


def invoice_accepted_work() -> None:
    """Nightly: invoice every order's accepted, unbilled items."""
    with _app.app_context(), unit_of_work() as session:
        invoices = invoice_all_accepted_work(session, Terms.from_config(current_app.config))
        log.info("invoiced %d orders", len(invoices))


def configure(scheduler: BaseScheduler, app: Flask) -> BaseScheduler:
    """Point a scheduler that is not running yet at the app's database, with the jobs."""
    global _app
    _app = app
    with app.app_context():
        engine = db.engine
    zone = ZoneInfo(app.config["BUSINESS_TIMEZONE"])
    scheduler.configure(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
        job_defaults={"coalesce": True, "misfire_grace_time": 3600},
        timezone=zone,
    )
    declare_jobs(scheduler, zone)
    return scheduler


def declare_jobs(scheduler: BaseScheduler, zone: ZoneInfo) -> None:
    """Add the jobs, replacing stored ones of the same id (so restarts never duplicate)."""
    scheduler.add_job(
        release_drops,
        CronTrigger(second=0, timezone=zone),
        id="release-drops",
        replace_existing=True,
    )
    scheduler.add_job(
        invoice_accepted_work,
        CronTrigger(hour=0, minute=30, timezone=zone),
        id="invoice-accepted-work",
        replace_existing=True,
    )


def start_embedded(app: Flask) -> BaseScheduler:
    """A scheduler on a background thread of this process (the demo server)."""
    scheduler = configure(BackgroundScheduler(), app)
    scheduler.start()
    return scheduler


def run_forever(app: Flask) -> None:
    """The scheduler as its own process, until interrupted."""
    configure(BlockingScheduler(), app).start()
