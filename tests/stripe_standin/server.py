"""The stand-in's HTTP side: auth, routing, Idempotency-Key, injected failures, and the controls.

It runs in the test's own process, in a background thread, so a test drives it with plain
method calls (set a balance, fail the next request, deliver an event) and reads what it saw.
One lock serializes every request and control: Stripe answers concurrent uses of one key
one at a time too, and the tests stay deterministic.
"""

import base64
import copy
import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import stripe

from tests.stripe_standin.book import ROUTES, Book
from tests.stripe_standin.webhooks import Delivery, Outbox, Post, payload, signature_header
from tests.stripe_standin.wire import StripeError, decode_form, new_id


@dataclass
class Request:
    """One request as the stand-in saw it; `status` is None when the answer was dropped."""

    method: str
    path: str
    params: dict
    idempotency_key: str | None
    api_key: str | None
    status: int | None = None
    replayed: bool = False


@dataclass
class _Saved:
    method: str
    path: str
    params: dict
    status: int
    answer: dict


@dataclass
class _Failure:
    method: str
    path_prefix: str
    status: int
    error: dict
    drop: bool
    processed: bool


def _api_key(header: str) -> str | None:
    """The secret key from `Bearer sk_...` (the SDK) or Basic auth (curl's `-u sk_...:`)."""
    scheme, _, value = header.partition(" ")
    if scheme == "Basic":
        value = base64.b64decode(value).decode(errors="replace").partition(":")[0]
    elif scheme != "Bearer":
        return None
    return value if re.fullmatch(r"sk_(test|live)_\w+", value) else None


def _route(method: str, path: str) -> tuple[str, tuple] | None:
    for route_method, pattern, name in ROUTES:
        match = re.fullmatch(pattern, path)
        if route_method == method and match:
            return name, match.groups()
    return None


class StripeStandin:
    """A Stripe stand-in on 127.0.0.1; see tests/stripe_standin/__init__.py for the API."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.standin = self
        self._thread: threading.Thread | None = None
        self.url = f"http://{host}:{self._server.server_port}"
        self.reset()

    def start(self) -> "StripeStandin":
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits up to one poll
            name="stripe-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "StripeStandin":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget everything: objects, balances, events, keys, failures, the webhook endpoint."""
        with self._lock:
            self._book = Book()
            self._outbox = Outbox()
            self._saved: dict[tuple[str, str], _Saved] = {}
            self._failures: list[_Failure] = []
            self.requests: list[Request] = []

    def forget_idempotency_keys(self) -> None:
        """What Stripe does 24 hours after a key was first used: the next call with it is new."""
        with self._lock:
            self._saved.clear()

    def client(self, api_key: str = "sk_test_standin", **options) -> stripe.StripeClient:
        """A `stripe.StripeClient` pointed at the stand-in (max_network_retries etc. in options)."""
        return stripe.StripeClient(api_key, base_addresses={"api": self.url}, **options)

    # -- money and objects ---------------------------------------------------------------

    def set_balance(self, currency: str, amount: int) -> None:
        with self._lock:
            self._book.available[currency.lower()] = amount

    def balance(self, currency: str) -> int:
        with self._lock:
            return self._book.available.get(currency.lower(), 0)

    def object(self, object_id: str) -> dict:
        """A copy of any object the stand-in holds (account, transfer, charge, event...)."""
        with self._lock:
            return copy.deepcopy(self._book.objects[object_id])

    def fail_transfers_to(
        self, account_id: str, code: str = "account_closed", message: str | None = None
    ) -> None:
        """Every later transfer to this account is refused with a 400 of this code."""
        with self._lock:
            message = message or f"Transfers to {account_id} cannot be made ({code})."
            self._book.failing_destinations[account_id] = (code, message)

    def open_dispute(
        self, charge_id: str, *, amount: int | None = None, reason: str = "fraudulent"
    ) -> dict:
        """A chargeback: emits charge.dispute.created and charge.dispute.funds_withdrawn."""
        with self._lock:
            return copy.deepcopy(self._book.open_dispute(charge_id, amount, reason))

    def close_dispute(self, dispute_id: str, *, won: bool) -> dict:
        """Emits charge.dispute.funds_reinstated (if won) and charge.dispute.closed."""
        with self._lock:
            return copy.deepcopy(self._book.close_dispute(dispute_id, won))

    # -- failures ------------------------------------------------------------------------

    def fail_next(
        self,
        path_prefix: str,
        status: int = 500,
        error: dict | None = None,
        *,
        method: str = "POST",
        drop: bool = False,
        processed: bool = False,
    ) -> None:
        """The next request to a path starting with `path_prefix` fails once.

        It answers `status` with `{"error": error}` (a Stripe api_error by default), or with
        `drop=True` closes the connection without an answer. By default the request is not
        carried out and its idempotency key is not kept, as when Stripe never saw it; with
        `processed=True` it is carried out and kept, and only the answer is lost.
        """
        error = error or {"type": "api_error", "message": "An unknown error occurred"}
        with self._lock:
            self._failures.append(_Failure(method, path_prefix, status, error, drop, processed))

    def _take_failure(self, method: str, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.method == method and path.startswith(failure.path_prefix):
                self._failures.remove(failure)
                return failure
        return None

    # -- events and webhooks -------------------------------------------------------------

    @property
    def events(self) -> list[dict]:
        """Every event emitted so far, oldest first."""
        with self._lock:
            return copy.deepcopy(self._book.events)

    def events_of(self, event_type: str) -> list[dict]:
        return [event for event in self.events if event["type"] == event_type]

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._outbox.deliveries)

    def webhook_endpoint(self, target: str | Post, secret: str) -> None:
        """Where deliver() sends: a URL, or a callable `post(body, headers) -> status`."""
        with self._lock:
            self._outbox.endpoint(target, secret)

    def deliver(
        self,
        event: dict | str,
        *,
        times: int = 1,
        timestamp: int | None = None,
        secret: str | None = None,
        post: Post | None = None,
    ) -> list[int]:
        """Send one event (or its id) `times` times, now; answers each attempt's status.

        `timestamp` signs as of that Unix time (a stale event), `secret` signs with another
        secret (a forged one), `post` sends somewhere other than the endpoint.
        """
        event_id = event if isinstance(event, str) else event["id"]
        stored = self.object(event_id)
        return self._outbox.deliver(
            stored, times=times, timestamp=timestamp, secret=secret, post=post
        )

    def deliver_pending(
        self, *, order: str = "created", seed: int = 0, post: Post | None = None
    ) -> list[Delivery]:
        """Send once each event no 2xx has answered yet (order: created, reverse, random)."""
        with self._lock:
            waiting = self._outbox.pending(copy.deepcopy(self._book.events), order, seed)
        sent = len(self._outbox.deliveries)
        for event in waiting:
            self._outbox.deliver(event, post=post)
        return self._outbox.deliveries[sent:]

    def payload(self, event: dict | str) -> bytes:
        """The exact body deliver() sends for this event."""
        return payload(self.object(event if isinstance(event, str) else event["id"]))

    def sign(self, body: bytes, *, secret: str | None = None, timestamp: int) -> str:
        """A `Stripe-Signature` header for this body (the endpoint's secret by default)."""
        secret = secret or self._outbox.secret
        if not secret:
            raise RuntimeError("no secret: pass one, or call webhook_endpoint(target, secret)")
        return signature_header(body, secret, timestamp)

    # -- answering a request -------------------------------------------------------------

    def _handle(self, method: str, path: str, params: dict, headers) -> tuple | None:
        """(status, answer, headers), or None to drop the connection."""
        with self._lock:
            api_key = _api_key(headers.get("Authorization", ""))
            key = headers.get("Idempotency-Key") if method == "POST" else None
            record = Request(method, path, params, key, api_key)
            self.requests.append(record)
            extra = {"Request-Id": new_id("req")}
            if key:
                extra["Idempotency-Key"] = key
            if api_key is None:
                record.status = 401
                message = "Invalid API Key provided (the stand-in wants Bearer sk_test_...)."
                return 401, {"error": {"type": "invalid_request_error", "message": message}}, extra
            failure = self._take_failure(method, path)
            if failure and not failure.processed:
                return self._fail(record, failure, extra)
            status, answer, record.replayed = self._answer(
                method, path, params, api_key, key, extra["Request-Id"]
            )
            if record.replayed:
                extra["Idempotent-Replayed"] = "true"
            if failure:  # carried out, but the answer is lost on the way back
                return self._fail(record, failure, extra)
            record.status = status
            return status, answer, extra

    @staticmethod
    def _fail(record: Request, failure: _Failure, extra: dict) -> tuple | None:
        if failure.drop:
            return None
        record.status = failure.status
        return failure.status, {"error": failure.error}, extra

    def _answer(self, method, path, params, api_key, key, request_id) -> tuple[int, dict, bool]:
        saved = self._saved.get((api_key, key)) if key else None
        if saved:
            try:
                self._check_same_request(saved, method, path, params, key)
            except StripeError as error:
                return error.status, error.answer(), False
            return saved.status, copy.deepcopy(saved.answer), True
        route = _route(method, path)
        if route is None:
            message = f"Unrecognized request URL ({method}: {path})."
            return 404, {"error": {"type": "invalid_request_error", "message": message}}, False
        name, ids = route
        self._book.request = {"id": request_id, "idempotency_key": key}
        try:
            obj = getattr(self._book, name)(params, *ids)
            status, answer = 200, self._book.expand(obj, params)
        except StripeError as error:
            if not error.saved:
                return error.status, error.answer(), False
            status, answer = error.status, error.answer()
        finally:
            self._book.request = {"id": None, "idempotency_key": None}
        if key:
            self._saved[(api_key, key)] = _Saved(method, path, params, status, answer)
        return status, copy.deepcopy(answer), False

    @staticmethod
    def _check_same_request(saved: _Saved, method, path, params, key) -> None:
        retry = f"Try using a key other than '{key}' if you meant to execute a different request."
        if (saved.method, saved.path) != (method, path):
            raise StripeError(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they were"
                f" first used for ('{saved.method} {saved.path}' vs '{method} {path}'). {retry}",
                type="idempotency_error",
            )
        if saved.params != params:
            raise StripeError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they"
                f" were first used with. {retry}",
                type="idempotency_error",
            )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's requests session expects
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_DELETE(self):
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        params = decode_form(body if method == "POST" else query)
        outcome = self.server.standin._handle(method, path, params, self.headers)
        if outcome is None:  # a dropped connection: no status line at all
            self.close_connection = True
            return
        status, answer, headers = outcome
        data = json.dumps(answer, indent=2).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # quiet: the request log is `standin.requests`
        pass
