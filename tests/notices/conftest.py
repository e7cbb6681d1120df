from tests.notices.receiver import webhook_receiver  # noqa: F401  (fixture)
