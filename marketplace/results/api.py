"""Results out: an order's results streamed as JSON Lines, CSV or COCO."""

from flask import current_app
from flask.views import MethodView

from marketplace.db import db
from marketplace.identity.auth import BEARER_AUTH, current_actor
from marketplace.receivables.days import business_today
from marketplace.results.exports import prepare_export
from marketplace.results.files import MEDIA_TYPES, stream
from marketplace.results.schemas import ResultsArgs
from marketplace.web import Blueprint

blp = Blueprint(
    "results", __name__, url_prefix="/api/v1", description="An order's results, downloaded"
)

DESCRIPTION = """The order's decided items, streamed as they are read: the first bytes
leave at once, however large the order.

- `jsonl`: one JSON object a line: `ref`, `item` (the item's payload), `result`, `status`,
  `decided_at` (when it was accepted or rejected), `reason_code`, `reason`, `annotator`,
  `batch_id`, `submission_id`.
- `csv`: `ref`, `batch_id`, the result's top-level fields (a list as JSON), `status`,
  `decided_at`, `reason_code`, `reason`, `annotator`. 409 `format_not_flat` for results
  with nested fields (boxes).
- `coco`: for boxes: `images` (`id`, `file_name` = the item's ref, `width`, `height`,
  and the decision under `piecework`), `annotations` (`bbox` = [x, y, width, height]),
  `categories` (the labels). 409 `format_not_supported` for other task types.

`annotator` is a pseudonym, the same for one annotator throughout one order and another
in every other order; never a name.

The client (and platform admins) read the whole order; a team owner reads its own team's
work. **Results follow the money**: while the client is on credit hold, items billed on
its invoices that are past due and unpaid are held back until they are paid. The header
`Piecework-Held-Back` says how many items were left out (0: none) and
`Piecework-Held-Back-Invoices` which invoices (by number, comma-separated) release them.
An order with nothing to show gives an empty file (JSON Lines: no line; CSV: the header;
COCO: empty arrays). A download that fails midway is cut short without the chunked
body's end, so an HTTP client reports an error rather than a short file."""


@blp.route("/orders/<int:order_id>/results")
class OrderResults(MethodView):
    @blp.doc(
        security=BEARER_AUTH,
        description=DESCRIPTION,
        responses={
            "200": {
                "description": "The results file.",
                "headers": {
                    "Piecework-Held-Back": {
                        "description": "Items left out while the client is on credit hold.",
                        "schema": {"type": "integer"},
                    },
                    "Piecework-Held-Back-Invoices": {
                        "description": "The overdue invoices whose payment releases them.",
                        "schema": {"type": "string"},
                    },
                },
                "content": {
                    MEDIA_TYPES["jsonl"]: {},  # a JSON document a line: no one schema
                    MEDIA_TYPES["csv"]: {"schema": {"type": "string"}},
                    MEDIA_TYPES["coco"]: {"schema": {"type": "object"}},
                },
            }
        },
    )
    @blp.arguments(ResultsArgs, location="query")
    def get(self, args, order_id):
        """Download the order's results (its client; a team owner: its team's work)"""
        export = prepare_export(
            db.session,
            current_actor(),
            order_id,
            format=args["format"],
            status=args["status"],
            batch_id=args.get("batch_id"),
            since=args.get("since"),
            today=business_today(current_app.config["BUSINESS_TIMEZONE"]),
            secret=current_app.config["SECRET_KEY"],
        )
        headers = {
            "Content-Disposition": f"attachment; filename={export.filename}",
            "Piecework-Held-Back": str(export.held_back.items),
        }
        if export.held_back.invoice_numbers:
            headers["Piecework-Held-Back-Invoices"] = ", ".join(export.held_back.invoice_numbers)
        return current_app.response_class(
            stream(db.engine, export), mimetype=MEDIA_TYPES[export.format], headers=headers
        )
