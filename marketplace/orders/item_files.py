"""Reading items from a file, row by row: CSV or JSON Lines, never the whole file at once.

A file holds one item a row: `ref` and the task type's item fields (CSV columns,
or the keys of a JSON object). Rows are numbered from 1, the first item; a row's
`line` is the physical line it starts on (a CSV header is line 1). CSV values
are text: each is converted to the type the item schema gives its field
(integer, number, boolean, or an object or array written as JSON); an empty
cell leaves the field out. A UTF-8 byte-order mark is accepted; text in any
other encoding is refused naming the row and the byte.

Problems of the whole file (no rows, a header without `ref`, a line longer than
`MAX_LINE_BYTES`, a quote left open) raise 422 at once; a row's own problem is
yielded as a `RowProblem`, so the caller can list many of them.
"""

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache
from typing import Any, BinaryIO, NamedTuple

from marshmallow import ValidationError

from marketplace.errors import DomainError, Invalid
from marketplace.web import DECIMAL_TEXT, FreeJSON, loads_exact

CSV = "csv"
JSON_LINES = "jsonl"
# One item is a few fields; a line this long is not an item (a 5 MB line is refused).
MAX_LINE_BYTES = 1024 * 1024
_free_json = FreeJSON()
_BOM = codecs.BOM_UTF8
# JSON string escapes of a NUL or a UTF-16 surrogate (maybe a lone one).
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}
_WHOLE = re.compile(r"[+-]?[0-9]{1,18}")
_PLAIN = (str, int, bool, type(None))


class TooLarge(DomainError):
    status = 413
    code = "upload_too_large"


class RowProblem(NamedTuple):
    field: str | None
    code: str
    message: str


class Row(NamedTuple):
    number: int
    line: int
    ref: Any  # as written: the caller checks it
    fields: dict[str, Any] | RowProblem  # the item's fields (its payload), or what is wrong


def _row(number: int, line: int, item: dict[str, Any] | RowProblem) -> Row:
    if isinstance(item, RowProblem):
        return Row(number, line, None, item)
    return Row(number, line, item.pop("ref", None), item)


class Source(io.RawIOBase):
    """A binary stream read through: counts and digests the bytes, refuses past `max_bytes`
    (413 `upload_too_large`)."""

    def __init__(self, stream: BinaryIO, max_bytes: int) -> None:
        self._stream = stream
        self.max_bytes = max_bytes
        self.size = 0
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._stream.read(len(buffer))
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise TooLarge(
                f"An upload holds at most {self.max_bytes} bytes.", max_bytes=self.max_bytes
            )
        self.sha256.update(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def drain(self) -> str:
        """Read what is left; the digest of everything read."""
        while self.read(1 << 16):
            pass
        return self.sha256.hexdigest()


def read_rows(source: Source, fmt: str, item_schema: dict | None) -> Iterator[Row]:
    """The file's rows, in order (422 for a problem of the whole file)."""
    buffered = io.BufferedReader(source, buffer_size=1 << 16)
    if buffered.peek(len(_BOM)).startswith(_BOM):
        buffered.read(len(_BOM))
    if not buffered.peek(1):
        raise Invalid("The file holds no items.", code="empty_file")
    rows = _csv_rows(buffered, item_schema) if fmt == CSV else _json_rows(buffered)
    empty = True
    for row in rows:
        empty = False
        yield row
    if empty:
        raise Invalid("The file holds no items.", code="empty_file")


def _line_too_long(line: int) -> Invalid:
    return Invalid(
        f"Line {line} is longer than {MAX_LINE_BYTES} bytes: one item a line.",
        code="line_too_long",
        line=line,
        max_bytes=MAX_LINE_BYTES,
    )


def _json_rows(buffered: io.BufferedReader) -> Iterator[Row]:
    number = 0
    for line, raw in enumerate(iter(lambda: buffered.readline(MAX_LINE_BYTES + 1), b""), 1):
        if len(raw) > MAX_LINE_BYTES:
            raise _line_too_long(line)
        if not raw.strip():
            continue  # a blank line (the last one, often) holds no item
        number += 1
        yield _row(number, line, _json_item(raw))


def _json_item(raw: bytes) -> dict[str, Any] | RowProblem:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _not_utf8(None, raw[exc.start])
    try:
        item = loads_exact(text)
    except (ValueError, RecursionError) as exc:
        return RowProblem(None, "malformed_json", f"Not JSON: {exc}")
    if not isinstance(item, dict):
        return RowProblem(None, "not_an_object", "A row is a JSON object: ref and the fields.")
    # Only an escape can bring a NUL or a lone surrogate into valid UTF-8 JSON text.
    if _SUSPECT_ESCAPE.search(raw):
        problem = _unstorable(item)
        if problem is not None:
            return problem
    fields = {key: value for key, value in item.items() if key != "ref"}
    if not all(isinstance(value, _PLAIN) for value in fields.values()):
        try:  # fractions become plain JSON numbers, as in any request body
            fields = _free_json.deserialize(fields)
        except ValidationError as exc:
            return RowProblem(None, "invalid_number", " ".join(map(str, exc.messages)))
    return {"ref": item.get("ref"), **fields}


def _unstorable(item: dict[str, Any]) -> RowProblem | None:
    """The field holding a NUL or a lone surrogate (no database stores them), if any."""
    for key, value in item.items():
        for text in _texts([key, value]):
            if "\x00" in text:
                return RowProblem(key, "unstorable_text", "Text may not hold NUL characters.")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return RowProblem(key, "unstorable_text", "Text may not hold lone surrogates.")
    return None


def _texts(value: Any) -> Iterator[str]:
    """Every string in a parsed JSON value, keys too."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield key
            yield from _texts(child)
    elif isinstance(value, list):
        for child in value:
            yield from _texts(child)


def _not_utf8(field: str | None, byte: int) -> RowProblem:
    return RowProblem(
        field,
        "not_utf8",
        f"Not UTF-8 text (byte 0x{byte:02X}): save the file as UTF-8.",
    )


def _csv_rows(buffered: io.BufferedReader, item_schema: dict | None) -> Iterator[Row]:
    # Undecodable bytes become surrogates, found row by row: the error names its row.
    text = io.TextIOWrapper(buffered, encoding="utf-8", errors="surrogateescape", newline="")
    reader = csv.reader(_lines(text), strict=True)
    header = _header(reader, item_schema)
    converters = _converters(item_schema)
    number = 0
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise Invalid(
                f"The CSV is malformed from line {line} (item {number + 1}): {exc}; a quote "
                "left open takes the rest of the file into one field.",
                code="malformed_csv",
                row=number + 1,
                line=line,
            ) from exc
        if not any(values):
            continue
        number += 1
        yield _row(number, line, _csv_item(header, values, converters))


def _lines(text: io.TextIOWrapper) -> Iterator[str]:
    for number, line in enumerate(iter(lambda: text.readline(MAX_LINE_BYTES + 1), ""), 1):
        # A character is 1 to 4 bytes (an undecoded byte, as a surrogate, is 1): only a
        # line past a quarter of the limit in characters needs its bytes counted.
        if len(line) > MAX_LINE_BYTES or (
            4 * len(line) > MAX_LINE_BYTES
            and not line.isascii()
            and len(line.encode("utf-8", "surrogateescape")) > MAX_LINE_BYTES
        ):
            raise _line_too_long(number)
        yield line


def _header(reader: Any, item_schema: dict | None) -> list[str]:
    try:
        header = [name.strip() for name in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise Invalid("The CSV has no header line.", code="missing_columns") from exc
    if header and header[0].lstrip().startswith(("{", "[")):
        raise Invalid(
            "The body looks like JSON, not CSV: send JSON Lines as application/x-ndjson.",
            code="not_csv",
        )
    schema = item_schema or {}
    required = ["ref", *schema.get("required", [])]
    missing = [name for name in required if name not in header]
    if missing:
        raise Invalid(
            f"The CSV header lacks the columns {', '.join(missing)}.",
            code="missing_columns",
            missing=missing,
            header=header[:50],
        )
    known = set(schema.get("properties", {})) | {"ref"}
    unknown = [name for name in header if name not in known]
    if (unknown and schema.get("additionalProperties") is False) or "" in header:
        raise Invalid(
            "The CSV header names columns the task type's items do not have.",
            code="unknown_columns",
            unknown=unknown[:50],
            known=sorted(known),
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise Invalid("A column is named twice.", code="duplicate_columns", columns=repeated)
    return header


def _csv_item(header: list[str], values: list[str], converters: dict) -> dict | RowProblem:
    if len(values) != len(header):
        return RowProblem(
            None, "wrong_field_count", f"{len(values)} fields; the header has {len(header)}."
        )
    item: dict[str, Any] = {}
    for name, value in zip(header, values, strict=True):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                # A surrogate from surrogateescape stands for the byte it could not decode.
                return _not_utf8(name, ord(value[exc.start]) - 0xDC00)
        if "\x00" in value:
            return RowProblem(name, "unstorable_text", "Text may not hold NUL characters.")
        if value == "" and name != "ref":
            continue  # an empty cell: the field is left out
        convert = converters.get(name)
        item[name] = convert(value) if convert else value
    return item


def _converters(item_schema: dict | None) -> dict[str, Any]:
    """Per column, how its text becomes the type the schema gives it; a value that does
    not convert stays text, and the schema check then names the field."""
    properties = (item_schema or {}).get("properties", {})
    converters = {}
    for name, schema in properties.items():
        types = schema.get("type") if isinstance(schema, dict) else None
        types = [types] if isinstance(types, str) else list(types or [])
        if types and "string" not in types:
            converters[name] = _converter(types)
    return converters


def _converter(types: list[str]) -> Any:
    def convert(value: str) -> Any:
        text = value.strip()
        for kind in types:
            if kind in ("integer", "number") and _WHOLE.fullmatch(text):
                return int(text)  # the common case, without a Decimal
            if kind in ("integer", "number") and DECIMAL_TEXT.fullmatch(text):
                try:
                    number = _free_json.deserialize({"n": Decimal(text)})["n"]
                except ValidationError:
                    continue  # beyond any usable number: the schema check names it
                if kind == "number" or isinstance(number, int):
                    return number
            elif kind == "boolean" and text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            elif kind == "null" and text.lower() == "null":
                return None
            elif kind in ("object", "array"):
                try:
                    return _free_json.deserialize({"v": loads_exact(text)})["v"]
                except (ValueError, ValidationError, RecursionError):
                    continue
        return value

    # A column holds few distinct numbers (an image's width): each is converted once. An
    # object or a list is not shared between items, so it is converted every time.
    return convert if {"object", "array"} & set(types) else lru_cache(maxsize=4096)(convert)
