"""Throttling of the doors people knock on: sign-in, sign-up, resets, invites.

One Flask-Limiter, created here and initialized in the factory. Its storage is memory
by default and Redis when RATELIMIT_STORAGE_URI names one (several processes then
share the counts). A refused request answers 429 in the usual JSON error shape, with
`Retry-After`. Limits are counted per address and, where a request names an account,
per account too, so neither many addresses against one account nor one address
against many accounts gets through.
"""

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[])


def by_account() -> str:
    """The account a request names: the e-mail in its JSON body (or the address when
    it names none, so an empty body is still counted)."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    if isinstance(email, str) and email.strip():
        return "account:" + email.strip().lower()
    return "address:" + get_remote_address()
