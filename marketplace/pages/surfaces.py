"""The work surfaces' data: a result read from a submitted form, the fields a client's
result schema asks for, and where a refusal of the result is shown.

Each surface posts its visible fields; with JavaScript on, it also posts the result it
built as JSON (`result`). The page never judges a result: the task type's schema and
rules are checked by the service the API calls (`tasks.submit`), and its answer is
placed beside the field it names. Field names are the result's own paths, dotted
(`rating`, `boxes.2.w`), so a refusal's `path` or rule names its field directly.
"""

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext, lazy_gettext
from werkzeug.datastructures import MultiDict

from marketplace.errors import DomainError
from marketplace.orders.models import TaskType
from marketplace.orders.result_rules import value_at
from marketplace.pages.messages import known
from marketplace.web import loads_exact

# The built-in task types with a surface of their own; any other gets a generated form.
SURFACES = {"bbox_2d", "rating_1_5", "audio_score_0_2"}
BOX_FIELD = re.compile(r"boxes\.(\d{1,4})\.(x|y|w|h|label)")
BOX_KEYS = ("x", "y", "w", "h")
REQUIRED = re.compile(r"'([^']+)' is a required property")

# The built-in rules' messages (orders/task_types.py), marked for the catalogs.
RULE_MESSAGES = (
    lazy_gettext("A box must end inside the image: x + w <= the image's width."),
    lazy_gettext("A box must end inside the image: y + h <= the image's height."),
    lazy_gettext("A rating of 2 or lower names at least one error type."),
    lazy_gettext("Error types come from the order's list."),
)
# A schema's complaint, in words for a person, by the JSON Schema keyword it broke.
SCHEMA_WORDS = {
    "required": lazy_gettext("Required."),
    "type": lazy_gettext("Not the right kind of value."),
    "minimum": lazy_gettext("Too small."),
    "exclusiveMinimum": lazy_gettext("Too small."),
    "maximum": lazy_gettext("Too large."),
    "exclusiveMaximum": lazy_gettext("Too large."),
    "enum": lazy_gettext("Choose one of the options."),
    "maxLength": lazy_gettext("Too long."),
    "minLength": lazy_gettext("Too short."),
    "maxItems": lazy_gettext("Too many."),
    "minItems": lazy_gettext("Too few."),
}
NOT_JSON = lazy_gettext("Not valid JSON.")


def result_from_form(task_type: TaskType, form: MultiDict) -> Any:
    """The result the form carries: the JSON its surface built, else its visible fields
    read for the task type (a page without JavaScript)."""
    built = form.get("result", "").strip()
    if built:
        try:
            return loads_exact(built)
        except (ValueError, RecursionError):
            return built  # not an object: the schema check says so
    if task_type.key == "bbox_2d":
        return {"boxes": _boxes(form)}
    if task_type.key == "rating_1_5":
        return _present(
            rating=_number(form.get("rating")),
            error_types=form.getlist("error_types") or None,
            comment=form.get("comment", "").strip() or None,
        )
    if task_type.key == "audio_score_0_2":
        return _present(score=_number(form.get("score")))
    return _generic(schema_fields(task_type.result_schema), form)


def _present(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _number(raw: str | None) -> Any:
    """A number as typed, exactly (a Decimal the API's FreeJSON turns into a JSON number);
    text that is no number stays text, and the schema names its field."""
    if raw is None or not raw.strip():
        return None
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return raw
    return value if value.is_finite() else raw


def _boxes(form: MultiDict) -> list[dict[str, Any]]:
    """Boxes from their rows of fields, in row order; a row left empty is no box."""
    rows: dict[int, dict[str, Any]] = {}
    for name, value in form.items(multi=False):
        found = BOX_FIELD.fullmatch(name)
        if found:
            rows.setdefault(int(found[1]), {})[found[2]] = value
    boxes = []
    for _, row in sorted(rows.items()):
        if not any(str(v).strip() for v in row.values()):
            continue
        box = _present(**{key: _number(row.get(key)) for key in BOX_KEYS})
        if row.get("label", "").strip():
            box["label"] = row["label"].strip()
        boxes.append(box)
    return boxes


def media_url(ref: str) -> str | None:
    """Where the page loads an item's image or clip from: its ref when that is a path on
    this site (the demo's media); None for another site's address, which the pages'
    Content-Security-Policy would refuse to load."""
    if ref.startswith("/") and not ref.startswith("//") and "\\" not in ref:
        return ref
    return None


@dataclass(frozen=True)
class SchemaField:
    """A field of a generated form: one property of a client's result schema."""

    name: str
    label: str
    kind: str  # text, textarea, integer, number, choice, boolean, choices, json
    required: bool
    schema: dict

    @property
    def choices(self) -> list:
        return self.schema.get("enum") or self.schema.get("items", {}).get("enum") or []


def schema_fields(schema: dict | None) -> list[SchemaField]:
    """A form for a result schema's properties: strings, numbers with their bounds,
    enums as choices, booleans, arrays of enums as checkboxes, anything else as JSON."""
    schema = schema or {}
    required = set(schema.get("required", []))
    found = []
    for name, spec in (schema.get("properties") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        found.append(
            SchemaField(name, spec.get("title") or name, _kind(spec), name in required, spec)
        )
    return found


def _kind(spec: dict) -> str:
    kind = spec.get("type")
    if "enum" in spec:
        return "choice"
    if kind == "string":
        return "textarea" if spec.get("maxLength", 10_000) > 200 else "text"
    if kind in ("integer", "number", "boolean"):
        return kind
    if kind == "array" and "enum" in (spec.get("items") or {}):
        return "choices"
    return "json"


def _generic(fields: list[SchemaField], form: MultiDict) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for field in fields:
        raw = form.get(field.name, "")
        if field.kind == "boolean":
            result[field.name] = field.name in form
        elif field.kind == "choices":
            result[field.name] = [_choice(field, value) for value in form.getlist(field.name)]
        elif not raw.strip():
            continue
        elif field.kind in ("integer", "number"):
            result[field.name] = _number(raw)
        elif field.kind == "choice":
            result[field.name] = _choice(field, raw)
        elif field.kind == "json":
            try:
                result[field.name] = loads_exact(raw)
            except (ValueError, RecursionError):
                result[field.name] = raw
        else:
            result[field.name] = raw
    return result


def _choice(field: SchemaField, raw: str) -> Any:
    """The schema's own value of a choice posted as text (3, true, "a")."""
    return next((c for c in field.choices if _as_text(c) == raw), raw)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def refusal_field(task_type: TaskType, error: DomainError, result: Any) -> tuple[str, str]:
    """Where a refused result's error goes (a field's dotted path; "" for the whole
    result) and what it says, in the viewer's language."""
    details = error.details
    rule = details.get("rule")
    if rule == "result_schema":
        path = ".".join(str(details.get("path", "")).split("/")) if details.get("path") else ""
        missing = REQUIRED.search(error.message)
        if details.get("keyword") == "required" and missing:
            path = ".".join(filter(None, (path, missing[1])))
        words = SCHEMA_WORDS.get(details.get("keyword"))
        return path, str(words) if words else _general()
    found = next((r for r in task_type.rules if r.get("name") == rule), None)
    if found is None:
        return "", known(error.message) or _general()
    where = _rule_field(found, details.get("index"), result)
    return where, known(error.message) or _general()


def _rule_field(rule: dict, index: int | None, result: Any) -> str:
    """The field a rule speaks of: its list's element (an object of fields, as a box; a
    list of plain values is one field, as checkboxes), or the first result value it reads."""
    if "each" in rule:
        base = rule["each"].removeprefix("result.")
        element = value_at(result, f"{base}.{index}") if index is not None else None
        return f"{base}.{index}" if isinstance(element, dict) else base
    read = re.search(r'"var": \[?"result\.([A-Za-z0-9_.]+)"', json.dumps(rule["require"]))
    return read[1] if read else ""


def _general() -> str:
    return gettext("This result does not fit the task's rules.")
