"""A form's fields read by the API's own schema, and a service's refusal put beside the
field it names.

A browser sends every field as text; the API's schemas take integers strictly (a JSON
number), so whole-number fields are turned into ints first, and anything else is left
as typed for the schema to refuse in its own words. Nothing here decides what is valid:
the schema and the service do.
"""

import re
from typing import Any

from flask_babel import lazy_gettext
from marshmallow import Schema, ValidationError, fields

from marketplace.db import unit_of_work
from marketplace.errors import DomainError
from marketplace.pages.messages import field_errors, known

WHOLE = re.compile(r"[+-]?\d{1,18}")
# A refusal without a field of its own is shown at the top of its form.
FORM = "form"
# Refusals whose message carries its particulars (an address, an id): said in general
# words, by their code, where the catalogs cannot know the message itself.
BY_CODE = {
    "url_not_public": lazy_gettext("Webhooks go only to public addresses."),
    "already_member": lazy_gettext(
        "This person holds that role in your team already (if deactivated, take her back)."
    ),
    "unknown_level": lazy_gettext("Your team has no such level."),
    "unknown_task_type": lazy_gettext("There is no such task type."),
}


def read_form(
    schema: Schema, form: dict[str, str], *, integers=(), optional=(), nullable=()
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The form as the schema loads it (None and the errors per field if it refuses).

    Whole-number fields (the schema's integers, and `integers`) are read as numbers (a
    typed "40" becomes 40); `optional` fields left
    empty are not sent at all, as an API caller would leave them out; `nullable` ones
    left empty are sent as null (a quota emptied: no quota).
    """
    whole = set(integers) | {
        field.data_key or name
        for name, field in schema.fields.items()
        if isinstance(field, fields.Integer)
    }
    data: dict[str, Any] = {}
    for name, value in form.items():
        # Only to read a number or an empty field: what she typed is sent as typed (a
        # password may begin or end with a space, as through the API).
        bare = value.strip() if isinstance(value, str) else value
        if name in optional and bare in ("", None):
            continue
        if name in nullable and bare in ("", None):
            value = None
        if name in whole and isinstance(bare, str) and WHOLE.fullmatch(bare):
            value = int(bare)
        data[name] = value
    try:
        return schema.load(data), {}
    except ValidationError as invalid:
        return None, field_errors(_flat(invalid.messages))


class FormErrors(Exception):
    """A form the schema refused: one translated message per field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def load_form(schema: Schema, form) -> dict[str, Any]:
    """The schema's fields of a posted form, loaded by it (raises FormErrors). Blank
    fields are left out, as an API caller leaves them out, so the schema's defaults
    apply; other fields (the CSRF token) are not the schema's to read."""
    keys = {field.data_key or name for name, field in schema.fields.items()}
    sent = {key: value for key, value in form.items() if key in keys and value.strip()}
    data, errors = read_form(schema, sent)
    if errors:
        raise FormErrors(errors)
    return data


def _flat(messages: dict) -> dict:
    """Nested schemas' errors under their outer field's name (one message a field)."""
    flat = {}
    for name, errors in messages.items():
        if isinstance(errors, dict):
            first = next(iter(errors.values()))
            flat[name] = first if isinstance(first, list) else [str(first)]
        else:
            flat[name] = errors
    return flat


def refusal_errors(error: DomainError, fields: dict[str, str] | None = None) -> dict[str, str]:
    """A service's refusal as a form's errors: beside the field its details name (or the
    field `fields` gives for its code), else at the top of the form."""
    named = error.details.get("field") or (fields or {}).get(error.code)
    many = error.details.get("fields")
    message = known(error.message) or str(BY_CODE.get(error.code, error.message))
    if named:
        return {named: message}
    if many:
        return dict.fromkeys(many, message)
    return {FORM: message}


def shown_on_form(error: DomainError) -> bool:
    """Whether a refusal belongs beside the form (bad input, a conflict), rather than on
    an error page (what she may not see, 404; what her role may not do, 403)."""
    return error.status in (401, 409, 422)


def attempt(
    write, fields: dict[str, str] | None = None, *, also: tuple[int, ...] = ()
) -> tuple[Any, dict[str, str], int]:
    """Run `write(session)` in a unit of work: (its result, {}, 200), or for a refusal a
    form shows (None, its errors, its status: 401, 409 or 422, and the statuses `also`
    names). What she may not see (404) or her role may not do (403) goes on to the error
    page. A refusal writes nothing: the unit of work rolls back."""
    try:
        with unit_of_work() as work:
            return write(work), {}, 200
    except DomainError as refused:
        if not shown_on_form(refused) and refused.status not in also:
            raise
        return None, refusal_errors(refused, fields), refused.status
