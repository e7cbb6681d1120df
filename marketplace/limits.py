"""Throttling of the doors people knock on: sign-in, sign-up, resets, invites.

One Flask-Limiter, created here and initialized in the factory. Its storage is memory
by default and Redis when RATELIMIT_STORAGE_URI names one (several processes then
share the counts). A refused request answers 429 in the usual JSON error shape, with
`Retry-After`. Limits are counted per address and, where a request names an account,
per account too, so neither many addresses against one account nor one address
against many accounts gets through.
"""

from collections.abc import Callable

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[])


def by_account() -> str:
    """The account a request names: the e-mail in its JSON body, or in its form for a
    page (or the address when it names none, so an empty body is still counted)."""
    body = request.get_json(silent=True) if request.is_json else request.form
    email = body.get("email") if isinstance(body, dict) else None
    if isinstance(email, str) and email.strip():
        return "account:" + email.strip().lower()
    return "address:" + get_remote_address()


def throttled(account_key: Callable[[], str] = by_account, *, scope: str | None = None):
    """Limit a door per address and per account, with the limits the settings name.

    Counted per door (per endpoint), or under `scope` for doors that are one: the API's
    sign-in and the sign-in page share their counts, so two doors give no more guesses.
    """

    def limit(setting: str, key_func: Callable[[], str]):
        def value() -> str:
            return current_app.config[setting]

        if scope is None:
            return limiter.limit(value, key_func=key_func)
        return limiter.shared_limit(value, scope, key_func=key_func)

    def decorate(view):
        per_account = limit("ACCOUNTS_LIMIT_PER_ACCOUNT", account_key)
        per_address = limit("ACCOUNTS_LIMIT_PER_ADDRESS", get_remote_address)
        return per_address(per_account(view))

    return decorate
