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
    # The team console and the account pages (pages/team.py, team_notices.py, account.py):
    # the schemas' words...
    lazy_gettext("Not a valid integer."),
    lazy_gettext("Not a valid email address."),
    lazy_gettext("Not a valid URL."),
    lazy_gettext("Not a decimal number."),
    lazy_gettext("May not be blank."),
    lazy_gettext("A price must be greater than zero."),
    lazy_gettext("A price may not exceed 1,000,000 per item."),
    lazy_gettext("A price has at most 6 decimal places."),
    lazy_gettext("Must be one of: annotator, reviewer."),
    lazy_gettext("Must be one of: client, team."),
    lazy_gettext("One of: zh-CN, en."),
    lazy_gettext("Length must be between 1 and 64."),
    lazy_gettext("Length must be between 1 and 13."),
    lazy_gettext("Length must be between 8 and 200."),
    lazy_gettext("Must be greater than or equal to 1 and less than or equal to 30."),
    lazy_gettext("Must be greater than or equal to 1 and less than or equal to 1440."),
    lazy_gettext("Must be greater than or equal to 1 and less than or equal to 1000000."),
    lazy_gettext("Must be greater than or equal to 0 and less than or equal to 1000."),
    lazy_gettext("Not an IANA time zone name, such as Asia/Shanghai."),
    # ...and the services'.
    lazy_gettext("This address has a pending invite to your team; revoke it to send another."),
    lazy_gettext("She does not meet the level's promotion rule yet."),
    lazy_gettext("She is at that level already."),
    lazy_gettext("She is deactivated already."),
    lazy_gettext("She is active."),
    lazy_gettext("Your team has a level of that name or rank."),
    lazy_gettext("The rate is above what a contract of your team pays for this task type."),
    lazy_gettext("The invite is pending."),
    lazy_gettext("The invite is accepted."),
    lazy_gettext("The invite is revoked."),
    lazy_gettext("The invite is expired."),
    lazy_gettext("No invite has this token."),
    lazy_gettext("This invite is for another e-mail address than yours."),
    lazy_gettext("You have an account: give its password, or accept signed in."),
    lazy_gettext("You are new here: give your name and a password."),
    lazy_gettext("A password has at least 8 characters."),
    lazy_gettext("A user with this e-mail exists."),
    lazy_gettext("This link is not one we sent."),
    lazy_gettext("This link was used already."),
    lazy_gettext("This link has expired; ask for a new one."),
    lazy_gettext("Drop e-mails are for team owners."),
    lazy_gettext("A party has at most 16 webhook endpoints."),
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
