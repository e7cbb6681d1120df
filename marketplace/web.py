"""HTTP plumbing shared by every blueprint: JSON errors, exact decimals, money fields.

Every error answers `{"error": {"code", "message", "details"}}` with its status.
JSON numbers with a fraction are parsed as `Decimal`, never as binary floats.
"""

import json
import re
from decimal import Decimal
from typing import Any

import flask_smorest
from flask import Blueprint as FlaskBlueprint
from flask import Flask, Request, current_app, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate
from marshmallow.utils import get_value
from swagger_ui_bundle import swagger_ui_path
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException

from marketplace.db import MAX_ID
from marketplace.errors import DomainError
from marketplace.money import (
    MICROS,
    MoneyError,
    check_currency,
    format_micros,
    format_minor,
    format_share_bps,
    to_micros,
)

# A per-item price above a million major units is a typo, not a labeling order.
MAX_PRICE_MICROS = 1_000_000 * MICROS
WRITE_METHODS = {"POST", "PUT", "PATCH"}
# Endpoints whose body is a file (CSV, JSON Lines, multipart), not JSON: each checks its
# own content types and size.
FILE_ENDPOINTS = {"items.OrderItems"}
DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a number", name, 0)


def loads_exact(data: bytes | str) -> Any:
    """Parse JSON with fractions as Decimal; NaN and Infinity are refused."""
    return json.loads(data, parse_float=Decimal, parse_constant=_reject_constant)


class ExactJSONParser(FlaskParser):
    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return super()._raw_load_json(req)
        try:
            data = loads_exact(req.get_data(cache=True))
        except json.JSONDecodeError:
            raise
        except (ValueError, RecursionError) as exc:
            # Not UTF-8, an integer of thousands of digits, nesting deeper than Python's stack.
            raise json.JSONDecodeError(f"Unreadable JSON: {type(exc).__name__}", "?", 0) from exc
        path = _unstorable_text_at(data)
        if path is not None:
            # A NUL or a lone surrogate cannot be stored as text (PostgreSQL refuses NUL,
            # UTF-8 has no surrogates), so no request may carry one; the error names where.
            messages: Any = ["Text may not contain NUL characters or lone surrogates."]
            for key in reversed(path):
                messages = {key: messages}
            raise ValidationError(messages if path else {"_schema": messages})
        return data


def _unstorable_text_at(value: Any, path: tuple = ()) -> tuple | None:
    """Where in a parsed JSON document the first unstorable string is, or None."""
    if isinstance(value, str):
        return path if "\x00" in value or not _utf8(value) else None
    if not isinstance(value, dict | list):
        return None
    children = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in children:
        if isinstance(key, str) and _unstorable_text_at(key) is not None:
            return (*path, key)
        found = _unstorable_text_at(child, (*path, key))
        if found is not None:
            return found
    return None


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ExactJSONParser()


def error_response(status: int, code: str, message: str, details: dict | None = None):
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return jsonify(body), status


class ErrorBody(Schema):
    code = fields.String(
        metadata={"description": "Stable, machine-readable.", "example": "batch_taken"}
    )
    message = fields.String(metadata={"description": "For people."})
    details = fields.Dict(metadata={"description": "What the error is about, e.g. invalid fields."})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBody)


class Api(flask_smorest.Api):
    """flask-smorest's Api with our error shape for every HTTP error, in the spec too."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        if error.code == 422 and "messages" in data:
            return error_response(
                422, "validation_failed", "The request is not valid.", {"fields": data["messages"]}
            )
        if error.code == 400 and "messages" in data:
            return error_response(400, "malformed_json", "The request body is not valid JSON.")
        code = (error.name or "error").lower().replace(" ", "_").replace("'", "")
        return error_response(error.code or 500, code, data.get("message", error.description))


# Swagger UI's static files, for the interactive docs page at /api/docs.
swagger_ui = FlaskBlueprint(
    "swagger_ui", __name__, static_folder=str(swagger_ui_path), static_url_path="/api/swagger-ui"
)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        return error_response(error.status, error.code, error.message, error.details)

    @app.before_request
    def _require_json_body():
        # The API speaks JSON; the pages' forms post form data and check their own.
        if (
            request.method in WRITE_METHODS
            and request.path.startswith("/api/")
            and request.content_length
            and not request.is_json
            and request.endpoint not in FILE_ENDPOINTS
        ):
            return error_response(
                415, "unsupported_media_type", "Send the request body as application/json."
            )
        return None


# Text a person must be able to read: not only blanks.
not_blank = validate.Regexp(r"\s*\S", error="May not be blank.")


class FreeJSON(fields.Dict):
    """A free-form JSON object (an item's payload, a task's result): never money.

    Its numbers arrive as exact decimals like every JSON number; they are stored
    as plain JSON numbers (integers, or doubles for fractions such as box
    coordinates).
    """

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict:
        return _plain_numbers(super()._deserialize(value, attr, data, **kwargs))


# Free-form numbers beyond this magnitude are refused: they fit no JSON number a
# reader can use, and turning 1e1000000 into an int alone takes half a minute.
MAX_FREE_NUMBER_DIGITS = 18


def _plain_numbers(value: Any) -> Any:
    if isinstance(value, Decimal):
        if value.adjusted() >= MAX_FREE_NUMBER_DIGITS:
            raise ValidationError(f"Numbers here must be below 1e{MAX_FREE_NUMBER_DIGITS}.")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    return value


class DecimalString(fields.Field):
    """An exact decimal: a JSON string or number, parsed without binary floats."""

    default_error_messages = {"invalid": "Not a decimal number."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise self.make_error("invalid")
        # Decimal() alone would also read "0.1_0" and digits of other scripts (Arabic-Indic).
        if isinstance(value, str) and not DECIMAL_TEXT.fullmatch(value.strip()):
            raise self.make_error("invalid")
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except ArithmeticError as exc:
            raise self.make_error("invalid") from exc
        if not number.is_finite():
            raise self.make_error("invalid")
        return number


PRICE_DIGITS = "A price has at most 6 decimal places."


class Price(DecimalString):
    """A per-item price: a decimal string in JSON, integer micros inside."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].setdefault("type", "string")
        kwargs["metadata"].setdefault("example", "0.055")
        super().__init__(**kwargs)

    def _serialize(self, value: int | None, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format_micros(value)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        number = super()._deserialize(value, attr, data, **kwargs)
        if number <= 0:
            raise ValidationError("A price must be greater than zero.")
        try:
            micros = to_micros(number)
        except MoneyError as exc:
            raise ValidationError(PRICE_DIGITS) from exc
        if micros > MAX_PRICE_MICROS:
            raise ValidationError("A price may not exceed 1,000,000 per item.")
        return micros


class Share(DecimalString):
    """A share of a whole, such as "0.95": a decimal string of at most four places in JSON,
    integer basis points inside (9500). `minimum` is the least share allowed."""

    def __init__(self, *, minimum: Decimal = Decimal(0), **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].setdefault("type", "string")
        self.minimum = minimum
        super().__init__(**kwargs)

    def _serialize(self, value: int | None, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format_share_bps(value)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        number = super()._deserialize(value, attr, data, **kwargs)
        if not self.minimum <= number <= 1:
            raise ValidationError(f"A share from {self.minimum} to 1.")
        if number.as_tuple().exponent < -4:
            raise ValidationError("At most four decimal places.")
        return int(number.scaleb(4))


class Amount(fields.Field):
    """An amount in minor units inside, dumped as a decimal string in the object's currency."""

    def __init__(self, currency_attribute: str = "currency", **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {})
        kwargs["metadata"].setdefault("type", "string")
        kwargs["metadata"].setdefault("example", "196.30")
        super().__init__(dump_only=True, **kwargs)
        self.currency_attribute = currency_attribute

    def _serialize(self, value: int | None, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        currency = get_value(obj, self.currency_attribute)
        return None if value is None else format_minor(value, currency)


class Currency(fields.String):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs)
        try:
            return check_currency(code)
        except MoneyError as exc:
            raise ValidationError(str(exc)) from exc


class PageArgs(Schema):
    """Keyset paging: the next page starts after the last id seen."""

    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=MAX_ID),
        metadata={"description": "Return rows whose id is greater than this one."},
    )


def csv_download(text: str, filename: str):
    """A CSV file for the browser to save under `filename`."""
    return current_app.response_class(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
