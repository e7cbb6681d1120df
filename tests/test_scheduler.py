"""The scheduler's wiring: jobs are declared in the application database's job store."""

from apscheduler.schedulers.background import BackgroundScheduler

from marketplace import scheduler


def test_the_jobs_and_their_schedules_are_declared(app):
    configured = scheduler.configure(BackgroundScheduler(), app)
    configured.start(paused=True)
    try:
        jobs = {job.id: job for job in configured.get_jobs()}
        assert set(jobs) == {
            "release-drops",
            "invoice-accepted-work",
            "settle-funded-work",
            "accept-unreviewed-work",
            "send-pending-payouts",
            "chase-receivables",
            "lift-paid-holds",
            "send-mail",
            "deliver-webhooks",
            "notices-ahead",
        }
        assert str(jobs["release-drops"].trigger) == "cron[second='0']"
        invoicing = jobs["invoice-accepted-work"].trigger
        assert str(invoicing) == "cron[hour='0', minute='30']"
        assert str(invoicing.timezone) == "Asia/Shanghai"
        assert str(jobs["settle-funded-work"].trigger) == "cron[minute='*/10']"
        assert str(jobs["accept-unreviewed-work"].trigger) == "cron[minute='15']"
        assert str(jobs["send-pending-payouts"].trigger) == "cron[minute='*/15']"
        assert str(jobs["chase-receivables"].trigger) == "cron[hour='9', minute='0']"
        assert str(jobs["lift-paid-holds"].trigger) == "cron[minute='*/5']"
        assert str(jobs["send-mail"].trigger) == "cron[second='30']"
        # Declaring again (as every restart does) replaces the jobs instead of adding more.
        scheduler.declare_jobs(configured, invoicing.timezone)
        assert len(configured.get_jobs()) == 10
    finally:
        configured.shutdown(wait=False)
