"""Items from files: a malformed, mislabelled, oversized or unauthorized upload is refused
whole, naming the row, and writes nothing."""

import json

import pytest

from tests.bad_input.cases import HUGE_ID, JSON, ORDER, POST_ORDER, TEXT, case, raw, refused, run

pytestmark = pytest.mark.slow

CSV = "text/csv"
JSONL = "application/x-ndjson"
POST = "client POST /orders/{draft}/items"
HEADER = "ref,width,height\n"
BOM = "\ufeff"


def csv_case(case_id, text, status, code, route=POST, **kwargs):
    return case(case_id, route, status, code, text=text, content_type=CSV, **kwargs)


def jsonl_case(case_id, lines, status=422, code="invalid_rows", **kwargs):
    return case(case_id, POST, status, code, text=lines, content_type=JSONL, **kwargs)


def multipart(filename: str, part_type: str, content: str, field: str = "file") -> dict:
    """A multipart/form-data body, byte for byte, with one file part."""
    body = (
        f"--B\r\nContent-Disposition: form-data; name={field}; filename={filename}\r\n"
        f"Content-Type: {part_type}\r\n\r\n{content}\r\n--B--\r\n"
    )
    return {"text": body, "content_type": "multipart/form-data; boundary=B"}


ITEM_IMPORT_CASES = [
    # Who: the order's client alone; another's order, or one unseen, is not there.
    csv_case(
        "owner, a draft unseen", HEADER, 404, "order_not_found", "owner POST /orders/{draft}/items"
    ),
    csv_case(
        "owner, the order worked", HEADER, 403, "forbidden", "owner POST /orders/{order}/items"
    ),
    csv_case("admin", HEADER, 403, "forbidden", "admin POST /orders/{draft}/items"),
    csv_case("annotator", HEADER, 403, "forbidden", "li POST /orders/{order}/items"),
    csv_case(
        "rival client", HEADER, 404, "order_not_found", "rival_client POST /orders/{draft}/items"
    ),
    csv_case("anonymous", HEADER, 401, "missing_token", "anonymous POST /orders/{draft}/items"),
    csv_case("stranger", HEADER, 401, "invalid_token", "stranger POST /orders/{draft}/items"),
    csv_case(
        "order unknown", HEADER, 404, "order_not_found", f"client POST /orders/{HUGE_ID}/items"
    ),
    csv_case(
        "GET the items", HEADER, 405, "method_not_allowed", "client GET /orders/{draft}/items"
    ),
    # The body is not what it says, or not a kind we read.
    case("as JSON", POST, 415, "unsupported_media_type", text='{"items": []}', content_type=JSON),
    case("as plain text", POST, 415, "unsupported_media_type", text=HEADER, content_type=TEXT),
    case("no type", POST, 415, "unsupported_media_type", text=HEADER, content_type=None),
    case(
        "GBK declared",
        POST,
        415,
        "unsupported_charset",
        text=HEADER.encode("gbk"),
        content_type="text/csv; charset=gbk",
    ),
    csv_case(
        "JSON declared as CSV", '{"ref": "s3://a.jpg", "width": 1, "height": 1}\n', 422, "not_csv"
    ),
    jsonl_case("CSV declared as JSON Lines", HEADER + "s3://a.jpg,1,1\n"),
    case(
        "multipart without a file",
        POST,
        422,
        "file_missing",
        **multipart("a.csv", CSV, HEADER, "f"),
    ),
    case(
        "multipart spreadsheet",
        POST,
        415,
        "unsupported_media_type",
        **multipart("items.xlsx", "application/octet-stream", "PK\x03\x04"),
    ),
    case(
        "multipart, bad rows",
        POST,
        422,
        "invalid_rows",
        **multipart("a.csv", CSV, HEADER + "x,1\n"),
    ),
    # Malformed files.
    csv_case("empty", "", 422, "empty_file"),
    csv_case("a header alone", HEADER, 422, "empty_file"),
    csv_case("a BOM alone", BOM, 422, "empty_file"),
    csv_case("no ref column", "url,width,height\ns3://a.jpg,1,1\n", 422, "missing_columns"),
    csv_case("a field's column missing", "ref,width\ns3://a.jpg,1\n", 422, "missing_columns"),
    csv_case("a nameless column", "ref,width,height,\ns3://a.jpg,1,1,\n", 422, "unknown_columns"),
    csv_case(
        "a column twice", "ref,width,height,width\ns3://a.jpg,1,1,1\n", 422, "duplicate_columns"
    ),
    csv_case(
        "a quote left open",
        HEADER + "s3://a.jpg,1,1\n" + '"s3://b.jpg,1,1\n' * 3,
        422,
        "malformed_csv",
        details={"row": 2, "line": 3},
    ),
    csv_case(
        "a 5 MB line",
        HEADER + "s3://a.jpg,1,1\n" + "s3://" + "b" * 5_000_000 + ".jpg,1,1\n",
        422,
        "line_too_long",
        details={"line": 3},
    ),
    csv_case(  # 400,000 characters, 1.2 MB: the limit counts bytes
        "a 1.2 MB line of CJK",
        HEADER + "s3://" + "标" * 400_000 + ".jpg,1,1\n",
        422,
        "line_too_long",
        details={"line": 2},
    ),
    jsonl_case("a 5 MB JSON line", '{"ref": "' + "b" * 5_000_000 + '"}\n', 422, "line_too_long"),
    # Bad rows: all or nothing.
    csv_case("a BOM, then a bad row", BOM + HEADER + "s3://a.jpg,0,1\n", 422, "invalid_rows"),
    csv_case("GBK text", (HEADER + "s3://标注.jpg,1,1\n").encode("gbk"), 422, "invalid_rows"),
    csv_case("too few fields", HEADER + "s3://a.jpg,1\n", 422, "invalid_rows"),
    csv_case("too many fields", HEADER + "s3://a.jpg,1,1,1\n", 422, "invalid_rows"),
    csv_case("a width of text", HEADER + "s3://a.jpg,wide,1\n", 422, "invalid_rows"),
    csv_case("a blank ref", HEADER + "  ,1,1\n", 422, "invalid_rows"),
    csv_case("a ref of 2049", HEADER + "x" * 2049 + ",1,1\n", 422, "invalid_rows"),
    csv_case("a NUL", HEADER + "s3://a\x00.jpg,1,1\n", 422, "invalid_rows"),
    csv_case("a ref the draft has", HEADER + "s3://set/000000.jpg,1,1\n", 422, "invalid_rows"),
    csv_case("a ref twice", HEADER + "s3://a.jpg,1,1\n" * 2, 422, "invalid_rows"),
    jsonl_case("a list", "[1, 2]\n"),
    jsonl_case("truncated JSON", '{"ref": "s3://a.jpg", "width": \n'),
    jsonl_case("a ref a number", '{"ref": 5, "width": 1, "height": 1}\n'),
    jsonl_case("a NUL escaped", '{"ref": "s3://a\\u0000.jpg", "width": 1, "height": 1}\n'),
    jsonl_case("a lone surrogate", '{"ref": "s3://a\\ud800.jpg", "width": 1, "height": 1}\n'),
    jsonl_case("a huge number", '{"ref": "s3://a.jpg", "width": 1e999999, "height": 1}\n'),
    jsonl_case("GBK JSON", '{"ref": "s3://标注.jpg", "width": 1, "height": 1}\n'.encode("gbk")),
    # An order posted with its items holds each ref once, as an upload does.
    case(
        "order with a ref twice",
        POST_ORDER,
        422,
        "duplicate_ref",
        ORDER | {"items": [{"ref": "s3://a.jpg", "payload": {"width": 1, "height": 1}}] * 2},
        details={"item_index": 1, "first_index": 0},
    ),
    # The query and the headers.
    csv_case(
        "on_duplicate unknown",
        HEADER + "s3://a.jpg,1,1\n",
        422,
        "validation_failed",
        route=POST + "?on_duplicate=replace",
        field="on_duplicate",
        location="query",
    ),
    csv_case(
        "a key too long",
        HEADER + "s3://a.jpg,1,1\n",
        422,
        "validation_failed",
        headers={"Idempotency-Key": "k" * 256},
        field="Idempotency-Key",
        location="headers",
    ),
]


def test_a_bad_upload_is_refused_whole(subtests, app, api, cast, story):
    run(subtests, app, api, cast, story, ITEM_IMPORT_CASES)


def listed(answer) -> list[tuple]:
    return [
        (row["row"], row["line"], row["field"], row["code"])
        for row in answer.body["error"]["details"]["rows"]
    ]


CSV_ROWS = [
    "s3://ok.jpg,1,1",
    "s3://set/000000.jpg,1,1",  # the draft has it
    '"s3://multi',
    'line.jpg",0,1',  # a row over two lines, its width below the minimum
    "s3://short.jpg,1",
    "s3://ok.jpg,1,1",  # twice in the file
]
JSON_LINES = [
    json.dumps({"ref": "s3://j.jpg", "height": 1}),
    "",
    json.dumps({"ref": "s3://k.jpg", "width": "1", "height": 1}),
    "[]",
]


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            BOM + HEADER + "\n".join(CSV_ROWS) + "\n",
            CSV,
            [
                (2, 3, "ref", "duplicate_ref"),
                (3, 4, "width", "invalid_field"),
                (4, 6, None, "wrong_field_count"),
                (5, 7, "ref", "duplicate_ref"),
            ],
        ),
        (
            "\n".join(JSON_LINES) + "\n",
            JSONL,
            [
                (1, 1, "width", "invalid_field"),
                (2, 3, "width", "invalid_field"),
                (3, 4, None, "not_an_object"),
            ],
        ),
    ],
    ids=["csv", "jsonl"],
)
def test_the_refusal_names_each_bad_row_and_field(
    app, api, cast, story, body, content_type, expected
):
    path = f"/orders/{story['draft']}/items"
    answer = refused(
        app, api, "POST", path, cast.client, 422, "invalid_rows", **raw(body.encode(), content_type)
    )
    assert listed(answer) == expected


def test_an_upload_past_the_limits_is_refused_before_anything_is_written(
    app, api, cast, story, monkeypatch
):
    """1,000,001 rows, made cheap: the limit is a setting, here 3."""
    path = f"/orders/{story['draft']}/items"
    monkeypatch.setitem(app.config, "ITEMS_IMPORT_MAX_ROWS", 3)
    four = HEADER + "".join(f"s3://n/{n}.jpg,1,1\n" for n in range(4))
    answer = refused(app, api, "POST", path, cast.client, 413, "too_many_rows", **raw(four, CSV))
    assert answer.body["error"]["details"] == {"max_rows": 3}
    monkeypatch.setitem(app.config, "ITEMS_UPLOAD_MAX_BYTES", 40)
    refused(app, api, "POST", path, cast.client, 413, "request_entity_too_large", **raw(four, CSV))
