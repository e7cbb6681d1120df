"""Settings from environment variables, with safe defaults for a laptop."""

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("PIECEWORK_INSTANCE_DIR", PROJECT_ROOT / "instance"))


def _positive_seconds(name: str) -> int | None:
    """An optional whole number of seconds from the environment; refused unless positive."""
    value = os.environ.get(name)
    if not value:
        return None
    try:
        seconds = int(value)
    except ValueError:
        seconds = 0
    if seconds <= 0:
        raise ValueError(f"{name} must be a positive whole number of seconds, not {value!r}")
    return seconds


def instance_secret_key() -> str:
    """This installation's own random key, made on first use and kept in the instance
    folder: a published default would let anyone undo annotators' pseudonyms."""
    path = INSTANCE_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    draft = path.with_name(f"secret_key.{os.getpid()}.{secrets.token_hex(4)}")
    draft.write_text(key)
    try:
        # A link is made whole or not at all: of two processes starting at once, one
        # key wins and both use it.
        os.link(draft, path)
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        draft.unlink()
    return key


def database_url() -> str:
    """The database to use: `DATABASE_URL`, or the embedded SQLite file under instance/."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'piecework.db'}"


class Config:
    """Flask configuration read once, when the application is created."""

    def __init__(self) -> None:
        self.DATABASE_URL = database_url()
        self.SQL_ECHO = os.environ.get("SQL_ECHO") == "1"
        # Connections each process keeps to a server database (PostgreSQL); as many again
        # may be opened for bursts. SQLite takes one writer at a time whatever this says.
        self.DATABASE_POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", "10"))
        # The platform fee is charged to the client on top of the items, in basis points.
        self.PLATFORM_FEE_BPS = int(os.environ.get("PLATFORM_FEE_BPS", "500"))
        # Due dates and "today" are counted in the platform's business time zone.
        self.BUSINESS_TIMEZONE = os.environ.get("BUSINESS_TIMEZONE", "Asia/Shanghai")
        # Stripe (README, "Stripe"): unset, only the manual gateway runs. STRIPE_API_BASE
        # points the SDK at another server (a local test server); unset, Stripe's own.
        self.STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY") or None
        self.STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET") or None
        self.STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE") or None
        # E-mail (README, "Receivables"): dunning letters wait in the outbox table and are
        # sent through this SMTP server. Unset SMTP_HOST, they stay queued.
        self.SMTP_HOST = os.environ.get("SMTP_HOST") or None
        self.SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
        self.SMTP_USERNAME = os.environ.get("SMTP_USERNAME") or None
        self.SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
        self.SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS") == "1"
        self.MAIL_FROM = os.environ.get("MAIL_FROM", "billing@piecework.localhost")
        # Webhooks out (docs/webhooks.md): how long one delivery attempt may wait for an answer.
        self.WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
        # 1: webhooks may go to loopback and private addresses (a receiver on this network).
        self.WEBHOOK_ALLOW_PRIVATE_URLS = os.environ.get("WEBHOOK_ALLOW_PRIVATE_URLS") == "1"
        self.PAYOUT_FILE_DIR = os.environ.get("PAYOUT_FILE_DIR", str(INSTANCE_DIR / "payouts"))
        # argon2-cffi parameter profile for password hashes.
        self.PASSWORD_HASH_PROFILE = os.environ.get("PASSWORD_HASH_PROFILE", "RFC_9106_LOW_MEMORY")
        # Signs what must not be forged: annotators' pseudonyms in results, session cookies.
        # Unset, a random key is made once and kept in the instance folder.
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or instance_secret_key()
        # Where people reach the service: links in e-mails (verification, invites, resets).
        self.PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")
        # Flask-Limiter's storage: memory by default; redis://127.0.0.1:6379 to share it
        # between processes. RATELIMIT_ENABLED=0 turns throttling off (benchmarks).
        self.RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_ENABLED = os.environ.get("RATELIMIT_ENABLED", "1") != "0"
        self.RATELIMIT_HEADERS_ENABLED = True
        # The doors anyone may knock on (sign-in, sign-up, password resets, verification
        # mails), each counted per address and per account: limits in Flask-Limiter's
        # notation. An office behind one address signs in many people at 9:00.
        self.ACCOUNTS_LIMIT_PER_ADDRESS = os.environ.get(
            "ACCOUNTS_LIMIT_PER_ADDRESS", "60 per minute;600 per hour"
        )
        self.ACCOUNTS_LIMIT_PER_ACCOUNT = os.environ.get(
            "ACCOUNTS_LIMIT_PER_ACCOUNT", "10 per minute;50 per hour"
        )
        # Whose sign-ups wait for an admin's approval before publishing orders: none, clients.
        self.SIGNUP_APPROVAL = os.environ.get("SIGNUP_APPROVAL", "none")
        if self.SIGNUP_APPROVAL not in ("none", "clients"):
            raise ValueError(
                f"SIGNUP_APPROVAL must be none or clients, not {self.SIGNUP_APPROVAL!r}"
            )
        # Invite acceptance (workers/members_api.py), per address and per invite: a token is
        # 256 random bits, so these guard against floods, not guessing.
        self.INVITE_ACCEPT_LIMIT_PER_ADDRESS = os.environ.get(
            "INVITE_ACCEPT_LIMIT_PER_ADDRESS", "20 per minute;200 per hour"
        )
        self.INVITE_ACCEPT_LIMIT_PER_INVITE = os.environ.get(
            "INVITE_ACCEPT_LIMIT_PER_INVITE", "5 per minute;20 per day"
        )
        self.TEAM_INVITES_LIMIT = os.environ.get("TEAM_INVITES_LIMIT", "30 per hour;200 per day")
        self.MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(32 * 1024 * 1024)))
        # Items from a file (POST /orders/{id}/items, docs/items.md): the most rows and
        # bytes one upload may hold; that endpoint alone takes bodies past MAX_CONTENT_LENGTH.
        self.ITEMS_IMPORT_MAX_ROWS = int(os.environ.get("ITEMS_IMPORT_MAX_ROWS", "1000000"))
        self.ITEMS_UPLOAD_MAX_BYTES = int(
            os.environ.get("ITEMS_UPLOAD_MAX_BYTES", str(512 * 1024 * 1024))
        )
        # What an hour earns (docs/hourly-pay.md). A task's time counts from when the
        # annotator took it to her submission, at most this many seconds: there is no
        # heartbeat, so a longer gap is taken for an idle pause and not counted.
        self.IDLE_LIMIT_SECONDS = _positive_seconds("IDLE_LIMIT_SECONDS") or 600
        # Publishing an order whose price cannot pay the reference wage at its estimate:
        # refuse (409; an order without an estimate, 422), warn (published, the answer
        # says so) or off.
        self.WAGE_FLOOR = os.environ.get("WAGE_FLOOR", "warn")
        if self.WAGE_FLOOR not in ("refuse", "warn", "off"):
            raise ValueError(f"WAGE_FLOOR must be refuse, warn or off, not {self.WAGE_FLOOR!r}")
        # Fair pay (docs/hourly-pay.md, "Top-ups"): once an order's pace is measured, bill
        # the client a top-up of items that paid their annotators below the reference wage.
        self.FAIR_PAY_TOP_UPS = os.environ.get("FAIR_PAY_TOP_UPS", "off") == "on"
        # Drills and tests only (README, "Scheduled jobs"). CLOCK_FILE: the scheduler's clock
        # reads the moment from this file on every call instead of the system time.
        # RELEASE_CHECK_SECONDS: look for due drops every that many seconds instead of once a
        # minute on the minute. Unset (the default), neither changes anything.
        self.CLOCK_FILE = os.environ.get("CLOCK_FILE") or None
        self.RELEASE_CHECK_SECONDS = _positive_seconds("RELEASE_CHECK_SECONDS")

        # Pages (docs/pages.md): people sign in to a session cookie that scripts cannot read
        # (HttpOnly) and other sites' forms do not send (SameSite=Lax); Secure, so that it
        # never travels in clear, when the service is reached over HTTPS (PUBLIC_URL https,
        # or SESSION_COOKIE_SECURE=1 behind a proxy that ends TLS).
        self.SESSION_COOKIE_NAME = "piecework_session"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        secure = os.environ.get("SESSION_COOKIE_SECURE")
        self.SESSION_COOKIE_SECURE = (
            secure == "1" if secure else self.PUBLIC_URL.startswith("https://")
        )
        # A form's CSRF token lives as long as its session: a sign-in page left open over
        # lunch still signs in.
        self.WTF_CSRF_TIME_LIMIT = None
        # Pages speak zh_CN and en; a browser that asks for neither reads English.
        self.BABEL_DEFAULT_LOCALE = "en"
        self.BABEL_TRANSLATION_DIRECTORIES = "pages/translations"

        self.API_TITLE = "Piecework API"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/api"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.OPENAPI_SWAGGER_UI_PATH = "docs"
        # Swagger UI's files are served by the app itself (see web.swagger_ui), so the
        # docs page works without a CDN.
        self.OPENAPI_SWAGGER_UI_URL = "/api/swagger-ui/"
