"""The services' and schemas' own messages, marked so that the catalogs translate them.

A page shows the error a service raised or a schema reported, beside the field it names,
in the viewer's language: the message is looked up in the catalog as it is (gettext's
msgid is the English text), and one the catalogs do not know yet is shown in English.
The rules stay in the services; only their words are here.
"""

from flask_babel import get_locale, gettext, lazy_gettext

from marketplace.errors import DomainError

# Marked for `pybabel extract`; looked up at run time by their English text.
KNOWN = (
    # accounts/signin.py: a wrong password, an unknown address and a locked account alike.
    lazy_gettext("E-mail or password is wrong."),
    # identity/schemas.py LoginIn, as marshmallow words it.
    lazy_gettext("Missing data for required field."),
    lazy_gettext("Length must be between 3 and 254."),
    lazy_gettext("Length must be between 1 and 200."),
    lazy_gettext("Not a valid string."),
    # identity/actor.py
    lazy_gettext("Your role does not allow this."),
)


def translated(message: str) -> str:
    """The message in the viewer's language, if the catalogs have it (else as it is)."""
    return gettext(message)


def known(message: str) -> str | None:
    """The message in the viewer's language, or None if the catalogs lack it and she
    does not read English: the caller then says something general in her language."""
    text = gettext(message)
    return text if text != message or get_locale().language == "en" else None


def field_errors(messages: dict) -> dict[str, str]:
    """A marshmallow error dict as one translated message per field."""
    return {
        field: translated(errors[0] if isinstance(errors, list) else str(errors))
        for field, errors in messages.items()
    }


def error_text(error: DomainError) -> str | None:
    """What a page says of a service's refusal: its own message in her language, if the
    catalogs have it (None if not: no English sentence on a Chinese page)."""
    return known(error.message)
