"""The scheduler's wiring: jobs are declared in the application database's job store."""

from apscheduler.schedulers.background import BackgroundScheduler

from marketplace import scheduler


def test_the_nightly_invoicing_is_declared_at_half_past_midnight_business_time(app):
    configured = scheduler.configure(BackgroundScheduler(), app)
    configured.start(paused=True)
    try:
        [job] = configured.get_jobs()
        assert job.id == "invoice-accepted-work"
        assert str(job.trigger) == "cron[hour='0', minute='30']"
        assert str(job.trigger.timezone) == "Asia/Shanghai"
        # Declaring again (as every restart does) replaces the job instead of adding one.
        scheduler.declare_jobs(configured, job.trigger.timezone)
        assert len(configured.get_jobs()) == 1
    finally:
        configured.shutdown(wait=False)
