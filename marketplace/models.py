"""Every model module, so that `Base.metadata` knows every table (Alembic, tests)."""


def load_all_models() -> None:
    import marketplace.accounts.models
    import marketplace.identity.models
    import marketplace.ledger
    import marketplace.notices.models
    import marketplace.orders.models
    import marketplace.payments.models
    import marketplace.receivables.models
    import marketplace.subcontract.models
    import marketplace.wages.models
    import marketplace.workers.models  # noqa: F401
