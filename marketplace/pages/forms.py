"""A posted form as the API's own marshmallow schema reads JSON.

A browser sends every field as a string; the API's schemas take integers strictly (a
JSON number), so the fields a schema holds as integers are turned into ints first when
they are whole numbers (anything else is left for the schema to refuse, beside its
field). Blank fields are left out, so that the schema's defaults apply.
"""

from marshmallow import Schema, ValidationError, fields
from werkzeug.datastructures import MultiDict

from marketplace.pages.messages import field_errors


class FormErrors(Exception):
    """The form's errors, one translated message per field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def load_form(schema: Schema, form: MultiDict, *, lists: tuple[str, ...] = ()) -> dict:
    """The form loaded by `schema` (raises FormErrors beside the fields it names).
    `lists` are fields sent several times (checkboxes), read as lists."""
    raw: dict = {}
    for name, field in schema.fields.items():
        key = field.data_key or name
        if key in lists:
            raw[key] = [_typed(field.inner, v) for v in form.getlist(key) if v.strip()]
            continue
        value = form.get(key, "").strip()
        if value:
            raw[key] = _typed(field, value)
    try:
        return schema.load(raw)
    except ValidationError as invalid:
        raise FormErrors(field_errors(invalid.messages)) from None


def _typed(field: fields.Field, value: str):
    if isinstance(field, fields.Integer) and value.isdigit():
        return int(value)
    if isinstance(field, fields.Boolean):
        return value in ("1", "on", "true", "yes")
    return value
