"""Earnings views: how fast an annotator reads her earnings after a year of work, on PostgreSQL.

    .venv/bin/python benchmarks/earnings.py [--annotators 5000] [--items-per-day 4] ...
    make bench BENCH=earnings

What it does, in one run on a database of its own (created, migrated, dropped):

1. World, built set-based in SQL (generate_series), not through the API: the
   platform, a client, `--teams` teams (an owner each) and `--annotators`
   annotators (a membership and a token each); one order a month; every day
   of `--days` each annotator submits `--items-per-day` items (items, tasks,
   submissions in claimed batches under one contract per team and order),
   decided two days later (`--reject-percent` rejected); the daily tallies;
   invoices every Monday for the accepted work of the week before (lines,
   billed items, shares), paid a few days after their due date (payments and
   settlement), and a payout run on the 5th of every month, all in the ledger.
   Every billed submission carries its invoice's id (`submissions.invoice_id`,
   the billed mark), written with the row, never updated: the partial indexes
   of unbilled work are built after the rows, as every secondary index is.
   The clock stands at 22:00 on `--today` (Asia/Shanghai): the last days'
   work is unbilled or undecided, recent invoices are open, some late.
2. Variants: GET /me/earnings and GET /me/earnings/days (the last
   `--period-days` days) through the Flask test client with each annotator's
   own token, `--calls` times per variant and view for fresh random annotators,
   after `--warmup` calls. Stage 1 runs `as_is`, the code and schema as
   migrated; stage 2 adds two covering indexes (ledger entries, invoice shares)
   and runs `indexes`, the same code; they are dropped at the end. Each
   request's statements are timed too, so a slow request names its slow query.
   With --no-candidates: `as_is` only.
3. Plans: EXPLAIN (ANALYZE, BUFFERS) of every statement of each view and
   variant, for an annotator no request has read yet (so BUFFERS shows a
   first reading); the team owner's view, once per variant, for information.

It prints one line per variant and view, and writes benchmarks/results/earnings.json and
earnings-plans.txt (and time-stamped copies). Every answer is checked (200; pending
equals the sum of the invoices it waits on; a day per day of the period; a witness's
answers the same under every variant): it exits 1 when one fails, and with
--require-target when the code as is misses --target-ms at p95.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from string import Template
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from storm.cpu import CpuMeter
from storm.latency import percentile
from storm.source import shown, use_source
from storm.world import (
    create_database,
    drop_database,
    make_app,
    migrate,
    server_facts,
    sqlalchemy_url,
)

RESULTS = Path(__file__).resolve().parent / "results"
TIMEZONE = "Asia/Shanghai"  # the teams' and the business's
TARGET_MS = 20.0
CLIENT_PRICE_MICROS = 85_000  # 0.085 CNY an item: lines round half-up
PAYMENT_TERMS_DAYS = 30
BULK_TABLES = ("items", "tasks", "submissions", "invoice_items", "ledger_entries")


# --------------------------------------------------------------------------- the world


@dataclass
class Shape:
    annotators: int
    teams: int
    days: int
    items_per_day: int
    batch_annotators: int
    reject_percent: int
    today: date
    fee_bps: int

    @property
    def per_team(self) -> int:
        return self.annotators // self.teams

    @property
    def first_team(self) -> int:
        return 3  # parties: 1 the platform, 2 the client, then the teams

    @property
    def first_annotator(self) -> int:
        return self.teams + 3  # users: 1 the client's admin, 2 the platform's, then owners

    @property
    def submissions(self) -> int:
        return self.annotators * self.days * self.items_per_day

    @property
    def now(self) -> datetime:
        return datetime.combine(self.today, datetime.min.time(), ZoneInfo(TIMEZONE)).replace(
            hour=22
        )

    def check(self) -> None:
        if self.annotators % self.teams:
            raise SystemExit("--annotators must be a multiple of --teams")
        if self.per_team % self.batch_annotators:
            raise SystemExit("a team's annotators must be a multiple of --batch-annotators")
        if self.days < 3:
            raise SystemExit("--days must be at least 3")

    def substitutions(self) -> dict[str, Any]:
        return {
            "A": self.annotators,
            "T": self.teams,
            "PT": self.per_team,
            "G": self.batch_annotators,
            "D": self.days,
            "IPD": self.items_per_day,
            "N": self.submissions,
            "TB": self.first_team,
            "UB": self.first_annotator,
            "REJECT": self.reject_percent,
            "STEP": max(1, min(45, 600 // self.items_per_day)),
            "DAY0": (self.today - timedelta(days=self.days - 1)).isoformat(),
            "TODAY": self.today.isoformat(),
            "NOW": self.now.isoformat(),
            "TZ": TIMEZONE,
            "PRICE": CLIENT_PRICE_MICROS,
            "TERMS": PAYMENT_TERMS_DAYS,
            "FEE": self.fee_bps,
        }


def token_of(user_id: int) -> str:
    return f"pw_bench_{user_id}"


# Each step: (what, SQL). `$NAME`s are Shape.substitutions(); rows are written in the order
# real work writes them (day by day, all annotators), so one annotator's rows are spread
# over the table as in production. The step's row count is printed with its time.
PEOPLE = [
    (
        "parties",
        """
        INSERT INTO parties (id, kind, name, bank_account, timezone, created_at)
        SELECT 1, 'platform', 'Piecework', NULL, '$TZ', '$DAY0'::date - 60
        UNION ALL SELECT 2, 'client', 'Bench Client', 'CN-CLIENT', '$TZ', '$DAY0'::date - 60
        UNION ALL
        SELECT $TB + t, 'team', 'Team ' || lpad((t + 1)::text, 2, '0'), 'CN-TEAM-' || t, '$TZ',
               '$DAY0'::date - 50
        FROM generate_series(0, $T - 1) t
        """,
    ),
    (
        "users",
        """
        INSERT INTO users (id, email, name, password_hash, bank_account, locale, created_at)
        SELECT 1, 'buyer@bench.example', 'Buyer', %(hash)s, NULL, 'zh_CN', '$DAY0'::date - 60
        UNION ALL
        SELECT 2, 'admin@bench.example', 'Admin', %(hash)s, NULL, 'zh_CN', '$DAY0'::date - 60
        UNION ALL
        SELECT 3 + t, 'owner' || t || '@bench.example', 'Owner ' || t, %(hash)s, NULL, 'zh_CN',
               '$DAY0'::date - 50
        FROM generate_series(0, $T - 1) t
        UNION ALL
        SELECT $UB + a, 'annotator' || a || '@bench.example', 'Annotator ' || a, %(hash)s,
               'CN-BANK-' || a, 'zh_CN', '$DAY0'::date - 40 + mod(a, 30)
        FROM generate_series(0, $A - 1) a
        """,
    ),
    (
        "memberships",
        """
        INSERT INTO memberships (user_id, party_id, role, created_at)
        SELECT 1, 2, 'client_admin', '$DAY0'::date - 60
        UNION ALL SELECT 2, 1, 'platform_admin', '$DAY0'::date - 60
        UNION ALL SELECT 3 + t, $TB + t, 'team_owner', '$DAY0'::date - 50
        FROM generate_series(0, $T - 1) t
        UNION ALL SELECT $UB + a, $TB + a / $PT, 'annotator', '$DAY0'::date - 40 + mod(a, 30)
        FROM generate_series(0, $A - 1) a
        """,
    ),
    (
        "api tokens",
        """
        INSERT INTO api_tokens (user_id, token_digest, name, created_at)
        SELECT id, encode(sha256(convert_to('pw_bench_' || id, 'UTF8')), 'hex'), 'bench',
               created_at
        FROM users ORDER BY id
        """,
    ),
]

# The work: item n (0-based) is annotator a's k-th item of day d, n = (d * A + a) * IPD + k.
# Day d's work belongs to the order of its month and is decided on day d + 2; on
# `--reject-percent` x IPD percent of an annotator's days, her first item is rejected. Her
# accepted items are billed by the Monday run after their decision, when that run is past:
# by the invoice of that run and order, whose id is known before any invoice is written (the
# invoices are numbered by run and order), so submissions are written with their
# invoice_id (the billed mark) and never updated.

SCAFFOLD = [
    (
        "days (order, decision, Monday run of each day's work)",
        """
        CREATE TABLE bench_days AS
        SELECT x.*,
               CASE WHEN run_day <= '$TODAY'::date
                    THEN dense_rank() OVER (ORDER BY run_day, order_id) END AS invoice_id
        FROM (
            SELECT d, day, dense_rank() OVER (ORDER BY date_trunc('month', day))::int AS order_id,
                   min(d) OVER (PARTITION BY date_trunc('month', day)) AS first_d,
                   d <= $D - 3 AS decided,
                   CASE WHEN d <= $D - 3 THEN date_trunc('week', day + 2)::date + 7 END AS run_day
            FROM (SELECT d, '$DAY0'::date + d AS day FROM generate_series(0, $D - 1) d) x
        ) x
        """,
    ),
    (
        "work (a view: one row per item worked)",
        """
        CREATE VIEW bench_work AS
        SELECT n, w.*, z.*,
               CASE WHEN NOT w.decided THEN 'submitted'
                    WHEN w.k = 0 AND $REJECTED_ITEM THEN 'rejected'
                    ELSE 'accepted' END AS status
        FROM generate_series(0::bigint, $N - 1) n
        JOIN bench_days bd ON bd.d = n / ($A * $IPD)
        CROSS JOIN LATERAL (
            SELECT bd.d, bd.day, bd.order_id, bd.decided, bd.invoice_id,
                   n - bd.first_d * $A * $IPD + 1 AS seq, n / ($G * $IPD) + 1 AS batch_id,
                   ((n / $IPD) % $A)::int AS a, (n % $IPD)::int AS k,
                   ((n / $IPD) % $A)::int / $PT AS t
        ) w
        CROSS JOIN LATERAL (
            SELECT $TB + w.t AS team_id, $UB + w.a AS user_id, 3 + w.t AS owner_id,
                   40000 + 5000 * ((w.order_id + w.t) % 4) AS rate,
                   (w.day + time '09:00' + make_interval(mins => w.k * $STEP + w.a % 60))
                       AT TIME ZONE '$TZ' AS submitted_at,
                   CASE WHEN w.decided
                        THEN (w.day + 2 + time '10:00') AT TIME ZONE '$TZ' END AS reviewed_at
        ) z
        """,
    ),
    (
        "annotator days (a view: one row per annotator and day)",
        """
        CREATE VIEW bench_annotator_days AS
        SELECT bd.*, a, a / $PT AS t, $TB + a / $PT AS team_id, $UB + a AS user_id,
               40000 + 5000 * ((bd.order_id + a / $PT) % 4) AS rate,
               CASE WHEN bd.decided THEN ($REJECTED_DAY)::int END AS rejected
        FROM bench_days bd CROSS JOIN generate_series(0, $A - 1) a
        """,
    ),
    (
        "orders (one a month)",
        """
        INSERT INTO orders (id, client_party_id, title, task_type, instructions,
            unit_price_micros, currency, quantity, payment_terms_days, batch_size, status,
            published_at, created_at, claim_mode, sourcing, trial_batches, review_sample_bps,
            accuracy_threshold_bps, review_window_days, task_lease_minutes)
        SELECT order_id, 2, 'Street scenes ' || to_char(min(day), 'YYYY-MM'), 'bbox_2d',
               'Draw a tight box around every vehicle.', $PRICE, 'CNY', count(*) * $A * $IPD,
               $TERMS, $G * $IPD, 'published', (min(day) - 1 + time '08:00') AT TIME ZONE '$TZ',
               (min(day) - 2 + time '08:00') AT TIME ZONE '$TZ', 'first_come', 'claims', 0,
               10000, 0, 3, 120
        FROM bench_days GROUP BY order_id ORDER BY order_id
        """,
    ),
    (
        "contracts (client -> team, one per team and order)",
        """
        INSERT INTO contracts (id, order_id, upstream_party_id, downstream_party_id,
            unit_price_micros, currency, quantity, parent_contract_id, depth, source, created_at)
        SELECT (o.id - 1) * $T + t + 1, o.id, 2, $TB + t, $PRICE, 'CNY', o.quantity / $T,
               NULL, 1, 'claim', o.published_at + interval '1 hour'
        FROM orders o CROSS JOIN generate_series(0, $T - 1) t ORDER BY 1
        """,
    ),
    (
        "piece rates",
        """
        INSERT INTO piece_rates (team_party_id, order_id, unit_price_micros, currency,
            set_by_user_id, created_at)
        SELECT $TB + t, o.id, 40000 + 5000 * ((o.id + t) % 4), 'CNY', 3 + t, o.published_at
        FROM orders o CROSS JOIN generate_series(0, $T - 1) t ORDER BY o.id, t
        """,
    ),
    (
        "batches (a day's items of --batch-annotators annotators)",
        """
        INSERT INTO batches (id, order_id, seq, item_count, status, released_at,
            claimed_by_party_id, claimed_at, kind, returned_items, contract_id, created_at)
        SELECT b + 1, bd.order_id, b - bd.first_d * ($A / $G) + 1, $G * $IPD, 'finished',
               (bd.day + time '07:00') AT TIME ZONE '$TZ', $TB + x.t,
               (bd.day + time '08:00') AT TIME ZONE '$TZ', 'regular', 0,
               (bd.order_id - 1) * $T + x.t + 1, (bd.day + time '07:00') AT TIME ZONE '$TZ'
        FROM generate_series(0::bigint, $D::bigint * ($A / $G) - 1) b
        JOIN bench_days bd ON bd.d = b / ($A / $G)
        CROSS JOIN LATERAL (SELECT ((b % ($A / $G)) * $G / $PT)::int AS t) x
        """,
    ),
]

# Independent of each other: run side by side.
WORK = [
    (
        "items",
        """
        INSERT INTO items (id, order_id, seq, ref, payload, batch_id)
        SELECT n + 1, order_id, seq, 's3://bench/' || order_id || '/' || seq || '.jpg',
               '{"width": 1920, "height": 1080}'::json, batch_id
        FROM bench_work
        """,
    ),
    (
        "tasks",
        """
        INSERT INTO tasks (id, item_id, batch_id, order_id, team_party_id, status,
            annotator_user_id, assigned_at, lease_expires_at, reworks, level_id, created_at)
        SELECT n + 1, n + 1, batch_id, order_id, team_id, status, user_id,
               submitted_at - interval '20 minutes', NULL, 0, NULL,
               (day + time '08:00') AT TIME ZONE '$TZ'
        FROM bench_work
        """,
    ),
    (
        "submissions",
        """
        INSERT INTO submissions (id, task_id, batch_id, order_id, team_party_id,
            annotator_user_id, result, submitted_at, status, reason_code, reason,
            reviewer_user_id, reviewed_at, rate_micros, level_id, sample_round, created_at,
            invoice_id)
        SELECT n + 1, n + 1, batch_id, order_id, team_id, user_id,
               '{"boxes": [{"label": "car", "x": 1, "y": 2, "w": 30, "h": 40}]}'::json,
               submitted_at, status,
               CASE WHEN status = 'rejected' THEN 'object_missed' END,
               CASE WHEN status = 'rejected' THEN 'A car on the left has no box.' END,
               CASE WHEN decided THEN owner_id END, reviewed_at,
               CASE WHEN status = 'accepted' THEN rate END, NULL, NULL, submitted_at,
               CASE WHEN status = 'accepted' THEN invoice_id END
        FROM bench_work
        """,
    ),
    (
        "daily tallies (submitted on the day; decided: the work of two days before)",
        """
        INSERT INTO daily_tallies (user_id, team_party_id, day, currency, submitted, accepted,
            rejected, earned_micros)
        SELECT ad.user_id, ad.team_id, ad.day, 'CNY', $IPD, coalesce($IPD - w.rejected, 0),
               coalesce(w.rejected, 0), coalesce(($IPD - w.rejected) * w.rate, 0)
        FROM bench_annotator_days ad
        LEFT JOIN bench_annotator_days w ON w.d = ad.d - 2 AND w.a = ad.a
        """,
    ),
    (
        "bills (accepted items by Monday run, order, annotator and rate)",
        """
        CREATE TABLE bench_bills AS
        SELECT run_day, order_id, team_id AS team_party_id, user_id AS annotator_user_id,
               rate AS rate_micros, sum($IPD - rejected)::bigint AS items
        FROM bench_annotator_days WHERE run_day <= '$TODAY'::date
        GROUP BY 1, 2, 3, 4, 5
        """,
    ),
]

MONEY = [
    (
        "invoices (Mondays 02:00, paid 0-3 days after due)",
        """
        INSERT INTO invoices (id, number, client_party_id, order_id, currency, issued_at,
            due_on, items_minor, fee_minor, total_minor, status, paid_at, created_at)
        SELECT i.id,
               'INV-' || extract(year FROM i.run_day) || '-' || lpad(row_number() OVER (
                   PARTITION BY extract(year FROM i.run_day) ORDER BY i.id)::text, 6, '0'),
               2, i.order_id, 'CNY', x.issued_at, i.run_day + $TERMS, i.items_minor, x.fee,
               i.items_minor + x.fee, CASE WHEN x.paid_at <= '$NOW' THEN 'paid' ELSE 'open' END,
               CASE WHEN x.paid_at <= '$NOW' THEN x.paid_at END, x.issued_at
        FROM (
            SELECT row_number() OVER (ORDER BY run_day, order_id) AS id, run_day, order_id,
                   sum(line)::bigint AS items_minor
            FROM (
                SELECT run_day, order_id, team_party_id,
                       (sum(items)::bigint * $PRICE + 5000) / 10000 AS line
                FROM bench_bills GROUP BY 1, 2, 3
            ) l GROUP BY run_day, order_id
        ) i
        CROSS JOIN LATERAL (
            SELECT (i.run_day + time '02:00') AT TIME ZONE '$TZ' AS issued_at,
                   (i.items_minor * $FEE + 5000) / 10000 AS fee,
                   (i.run_day + $TERMS + (i.id % 4)::int + time '16:00') AT TIME ZONE '$TZ'
                       AS paid_at
        ) x
        ORDER BY i.id
        """,
    ),
    (
        "invoice counters",
        """
        INSERT INTO invoice_counters (year, last_number)
        SELECT extract(year FROM issued_at AT TIME ZONE '$TZ')::int, count(*)
        FROM invoices GROUP BY 1
        """,
    ),
    (
        "invoice lines (one per contract, the fee)",
        """
        INSERT INTO invoice_lines (invoice_id, kind, description, contract_id, quantity,
            unit_price_micros, amount_minor)
        SELECT invoice_id, kind, description, contract_id, quantity, unit_price_micros, amount
        FROM (
            SELECT i.id AS invoice_id, 'items' AS kind,
                   sum(b.items) || ' x bbox_2d at 0.085 CNY (' || p.name || ')' AS description,
                   c.id AS contract_id, sum(b.items)::int AS quantity,
                   $PRICE AS unit_price_micros,
                   (sum(b.items)::bigint * $PRICE + 5000) / 10000 AS amount
            FROM bench_bills b
            JOIN invoices i ON i.order_id = b.order_id
                AND i.issued_at = (b.run_day + time '02:00') AT TIME ZONE '$TZ'
            JOIN contracts c ON c.order_id = b.order_id AND c.downstream_party_id = b.team_party_id
            JOIN parties p ON p.id = b.team_party_id
            GROUP BY i.id, c.id, p.name
            UNION ALL
            SELECT id, 'fee', 'Platform fee ' || ($FEE / 100.0)::float || ' %', NULL, NULL, NULL,
                   fee_minor
            FROM invoices
        ) l
        ORDER BY invoice_id, contract_id NULLS LAST
        """,
    ),
    (
        "invoice shares (margins, annotators, the fee)",
        """
        WITH pay AS (
            SELECT i.id AS invoice_id, b.team_party_id AS party_id,
                   b.annotator_user_id AS user_id, c.id AS contract_id,
                   sum(b.items)::int AS items,
                   sum((b.items * b.rate_micros + 5000) / 10000) AS amount
            FROM bench_bills b
            JOIN invoices i ON i.order_id = b.order_id
                AND i.issued_at = (b.run_day + time '02:00') AT TIME ZONE '$TZ'
            JOIN contracts c ON c.order_id = b.order_id AND c.downstream_party_id = b.team_party_id
            GROUP BY 1, 2, 3, 4
        )
        INSERT INTO invoice_shares (invoice_id, party_id, user_id, role, contract_id, items,
            amount_minor)
        SELECT invoice_id, party_id, user_id, role, contract_id, items, amount
        FROM (
            SELECT invoice_id, party_id, user_id, 'annotator' AS role, contract_id, items, amount
            FROM pay
            UNION ALL
            SELECT l.invoice_id, c.downstream_party_id, NULL, 'margin', c.id, l.quantity,
                   l.amount_minor - p.amount
            FROM invoice_lines l JOIN contracts c ON c.id = l.contract_id
            JOIN (SELECT invoice_id, contract_id, sum(amount) AS amount FROM pay GROUP BY 1, 2) p
                ON p.invoice_id = l.invoice_id AND p.contract_id = l.contract_id
            UNION ALL
            SELECT i.id, 1, NULL, 'fee', NULL,
                   (SELECT sum(quantity) FROM invoice_lines l
                    WHERE l.invoice_id = i.id AND l.kind = 'items')::int, i.fee_minor
            FROM invoices i
        ) s
        ORDER BY invoice_id, contract_id NULLS LAST, user_id NULLS FIRST
        """,
    ),
    (
        "ledger accounts",
        """
        INSERT INTO ledger_accounts (party_id, user_id, kind, currency, created_at)
        SELECT party_id, user_id, kind, 'CNY', '$DAY0'::date FROM (
            SELECT 2 AS party_id, NULL::bigint AS user_id, 'receivable' AS kind
            UNION ALL SELECT 1, NULL, unnest(ARRAY['bank', 'pending', 'available'])
            UNION ALL SELECT $TB + t, NULL, unnest(ARRAY['pending', 'available', 'paid'])
            FROM generate_series(0, $T - 1) t
            UNION ALL SELECT $TB + a / $PT, $UB + a, unnest(ARRAY['pending', 'available', 'paid'])
            FROM generate_series(0, $A - 1) a
        ) x
        """,
    ),
    (
        "payments (paid invoices)",
        """
        INSERT INTO payments (client_party_id, invoice_id, gateway, reference, amount_minor,
            currency, received_on, recorded_by_user_id, created_at)
        SELECT 2, id, 'manual', 'BANK-' || number, total_minor, 'CNY',
               (paid_at AT TIME ZONE '$TZ')::date, 2, paid_at
        FROM invoices WHERE status = 'paid' ORDER BY paid_at, id
        """,
    ),
    (
        "payout runs (the 5th of each month, 10:00)",
        """
        INSERT INTO payout_runs (id, currency, minimum_minor, gateway, started_by_user_id,
            created_at)
        SELECT row_number() OVER (ORDER BY at), 'CNY', 1, 'manual', 2, at
        FROM (
            SELECT (date_trunc('month', '$DAY0'::date) + make_interval(months => m)
                    + interval '4 days 10 hours') AT TIME ZONE '$TZ' AS at
            FROM generate_series(1, $D / 28 + 1) m
        ) r
        WHERE at <= '$NOW'
        """,
    ),
    (
        "payouts (what each earner's settled shares made available since the last run)",
        """
        INSERT INTO payouts (run_id, party_id, user_id, currency, amount_minor, payee_name,
            bank_account, created_at)
        SELECT r.id, s.party_id, s.user_id, 'CNY', sum(s.amount_minor),
               coalesce(u.name, p.name), coalesce(u.bank_account, p.bank_account), r.created_at
        FROM (SELECT id, created_at, lag(created_at) OVER (ORDER BY id) AS prev
              FROM payout_runs) r
        JOIN invoices i ON i.status = 'paid' AND i.paid_at < r.created_at
            AND (r.prev IS NULL OR i.paid_at >= r.prev)
        JOIN invoice_shares s ON s.invoice_id = i.id
        JOIN parties p ON p.id = s.party_id AND p.kind <> 'platform'
        LEFT JOIN users u ON u.id = s.user_id
        GROUP BY r.id, r.created_at, s.party_id, s.user_id, u.name, p.name, u.bank_account,
                 p.bank_account
        HAVING sum(s.amount_minor) > 0
        ORDER BY r.id, s.party_id, s.user_id NULLS FIRST
        """,
    ),
    (
        "ledger transactions",
        """
        INSERT INTO ledger_transactions (idempotency_key, kind, currency, memo, posted_at,
            created_at)
        SELECT key, kind, 'CNY', memo, at, at FROM (
            SELECT 'invoice:' || id || ':issue' AS key, 'invoice_issued' AS kind,
                   'Invoice ' || number AS memo, issued_at AS at, 1 AS ord
            FROM invoices
            UNION ALL
            SELECT 'payment:' || p.id || ':received', 'payment_received',
                   'manual ' || p.reference || ' for ' || i.number, i.paid_at, 2
            FROM payments p JOIN invoices i ON i.id = p.invoice_id
            UNION ALL
            SELECT 'payment:' || p.id || ':settled', 'settlement', 'Settlement of ' || i.number,
                   i.paid_at, 3
            FROM payments p JOIN invoices i ON i.id = p.invoice_id
            UNION ALL
            SELECT 'payout:' || o.id, 'payout',
                   'Payout run ' || o.run_id || ' to ' || o.payee_name, o.created_at, 4
            FROM payouts o
        ) t
        ORDER BY at, ord, key
        """,
    ),
]

# Independent of each other: run side by side.
POSTINGS = [
    (
        "invoice items (each accepted item billed once)",
        """
        INSERT INTO invoice_items (submission_id, invoice_id)
        SELECT n + 1, invoice_id FROM bench_work
        WHERE status = 'accepted' AND invoice_id IS NOT NULL
        """,
    ),
    (
        "ledger entries",
        """
        WITH acct AS (
            SELECT id, party_id, coalesce(user_id, 0) AS user_id, kind FROM ledger_accounts
        ), legs AS (
            -- issue: the client's receivable against every share's pending
            SELECT 'invoice:' || i.id || ':issue' AS key, 0::bigint AS ord, r.id AS account_id,
                   i.total_minor AS amount
            FROM invoices i JOIN acct r ON r.party_id = 2 AND r.kind = 'receivable'
            UNION ALL
            SELECT 'invoice:' || s.invoice_id || ':issue', s.id, a.id, -s.amount_minor
            FROM invoice_shares s JOIN acct a ON a.party_id = s.party_id
                AND a.user_id = coalesce(s.user_id, 0) AND a.kind = 'pending'
            WHERE s.amount_minor <> 0
            -- the client's money at the bank
            UNION ALL
            SELECT 'payment:' || p.id || ':received', 0, b.id, p.amount_minor
            FROM payments p JOIN acct b ON b.party_id = 1 AND b.kind = 'bank'
            UNION ALL
            SELECT 'payment:' || p.id || ':received', 1, r.id, -p.amount_minor
            FROM payments p JOIN acct r ON r.party_id = 2 AND r.kind = 'receivable'
            -- settlement: every share from pending to available
            UNION ALL
            SELECT 'payment:' || p.id || ':settled', 2 * s.id + k.n, a.id,
                   CASE k.kind WHEN 'pending' THEN s.amount_minor ELSE -s.amount_minor END
            FROM payments p JOIN invoice_shares s ON s.invoice_id = p.invoice_id
            CROSS JOIN (VALUES (0, 'pending'), (1, 'available')) k (n, kind)
            JOIN acct a ON a.party_id = s.party_id AND a.user_id = coalesce(s.user_id, 0)
                AND a.kind = k.kind
            WHERE s.amount_minor <> 0
            -- payouts: available to paid
            UNION ALL
            SELECT 'payout:' || o.id, k.n, a.id,
                   CASE k.kind WHEN 'available' THEN o.amount_minor ELSE -o.amount_minor END
            FROM payouts o CROSS JOIN (VALUES (0, 'available'), (1, 'paid')) k (n, kind)
            JOIN acct a ON a.party_id = o.party_id AND a.user_id = coalesce(o.user_id, 0)
                AND a.kind = k.kind
        )
        INSERT INTO ledger_entries (transaction_id, account_id, amount_minor)
        SELECT t.id, l.account_id, l.amount
        FROM legs l JOIN ledger_transactions t ON t.idempotency_key = l.key
        ORDER BY t.id, l.ord
        """,
    ),
]

CLEANUP = [
    "DROP VIEW bench_work",
    "DROP VIEW bench_annotator_days",
    "DROP TABLE bench_days",
    "DROP TABLE bench_bills",
]

CHECKS = {
    # Each must be 0 on a sound world.
    "unbalanced ledger transactions": """
        SELECT count(*) FROM (SELECT transaction_id FROM ledger_entries
                              GROUP BY 1 HAVING sum(amount_minor) <> 0) x""",
    "invoices whose shares do not add up to their total": """
        SELECT count(*) FROM invoices i
        WHERE total_minor <> (SELECT sum(amount_minor) FROM invoice_shares s
                              WHERE s.invoice_id = i.id)""",
    "billed items other than the annotators' shares' items": """
        SELECT (SELECT count(*) FROM invoice_items)
             - (SELECT sum(items) FROM invoice_shares WHERE role = 'annotator')""",
    "accepted items billed nowhere, older than the last Monday run": """
        SELECT count(*) FROM submissions s
        WHERE status = 'accepted'
          AND reviewed_at < (date_trunc('week', '$NOW'::timestamptz AT TIME ZONE '$TZ')
                             + interval '2 hours') AT TIME ZONE '$TZ'
          AND NOT EXISTS (SELECT 1 FROM invoice_items i WHERE i.submission_id = s.id)""",
    "submissions whose invoice_id is not their invoice item's": """
        SELECT count(*) FROM submissions s LEFT JOIN invoice_items i ON i.submission_id = s.id
        WHERE s.invoice_id IS DISTINCT FROM i.invoice_id""",
    "billed items on another order's invoice, or not its first Monday run after the decision": """
        SELECT count(*) FROM invoice_items ii
        JOIN submissions s ON s.id = ii.submission_id JOIN invoices i ON i.id = ii.invoice_id
        WHERE i.order_id <> s.order_id OR i.issued_at <= s.reviewed_at
           OR i.issued_at > s.reviewed_at + interval '7 days'""",
    "indexes unusable by older transactions (pg_index.indcheckxmin)": """
        SELECT count(*) FROM pg_index WHERE indcheckxmin""",
    "tallied items other than submitted items": """
        SELECT (SELECT sum(submitted) FROM daily_tallies) - (SELECT count(*) FROM submissions)""",
    "tallied acceptances other than accepted items": """
        SELECT (SELECT sum(accepted) FROM daily_tallies)
             - (SELECT count(*) FROM submissions WHERE status = 'accepted')""",
}


def connect(conninfo: str) -> psycopg.Connection:
    """A loading connection: our rows are consistent by construction, so no foreign-key
    triggers fire while loading (session_replication_role), and commits do not wait."""
    conn = psycopg.connect(conninfo, autocommit=True)
    conn.execute("SET session_replication_role = replica")
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET work_mem = '256MB'")
    conn.execute("SET maintenance_work_mem = '512MB'")
    return conn


def run_step(conninfo: str, what: str, sql: str, subs: dict[str, Any], params=None) -> dict:
    with connect(conninfo) as conn:
        started = time.perf_counter()
        text = Template(sql).substitute(subs)
        cursor = conn.execute(text, params if "%(" in text else None)
        seconds = time.perf_counter() - started
    rows = cursor.rowcount if cursor.rowcount and cursor.rowcount > 0 else None
    print(f"  {what:<78} {rows or '':>10} {seconds:6.1f} s", flush=True)
    return {"step": what, "rows": rows, "seconds": round(seconds, 2)}


def run_steps(conninfo: str, steps, subs: dict[str, Any], params=None, parallel: int = 1):
    """The steps in order, or `parallel` at a time (each on its own connection)."""
    if parallel == 1:
        return [run_step(conninfo, what, sql, subs, params) for what, sql in steps]
    with ThreadPoolExecutor(parallel) as pool:
        futures = [pool.submit(run_step, conninfo, w, s, subs, params) for w, s in steps]
        return [f.result() for f in futures]


def secondary_indexes(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    """The bulk tables' indexes that back no constraint: (table, name, CREATE INDEX)."""
    return conn.execute(
        """
        SELECT t.relname, c.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY 1, 2
        """,
        (list(BULK_TABLES),),
    ).fetchall()


def build_world(conninfo: str, app, shape: Shape, parallel: int) -> dict[str, Any]:
    """Fill the migrated database; the timings of each step and the world's counts."""
    from marketplace.db import unit_of_work
    from marketplace.identity.service import _hasher
    from marketplace.orders.task_types import task_type_for_order

    subs = shape.substitutions()
    share = shape.reject_percent * shape.items_per_day  # of annotator-days, in percent
    subs["REJECTED_ITEM"] = f"abs(hashint8(n / {shape.items_per_day})) % 100 < {share}"
    subs["REJECTED_DAY"] = f"abs(hashint8(bd.d::bigint * {shape.annotators} + a)) % 100 < {share}"
    with app.app_context(), unit_of_work() as session:
        task_type_for_order(session, "bbox_2d", 2)  # the built-in type, stored as an order would
        password_hash = _hasher.hash("bench-password")
    started = time.perf_counter()
    with connect(conninfo) as conn:
        # The big tables' secondary indexes are built once, after their rows.
        indexes = secondary_indexes(conn)
        for _, name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
    timings = run_steps(conninfo, PEOPLE, subs, {"hash": password_hash})
    timings += run_steps(conninfo, SCAFFOLD, subs)
    timings += run_steps(conninfo, WORK, subs, parallel=parallel)
    timings += run_steps(conninfo, MONEY, subs)
    timings += run_steps(conninfo, POSTINGS, subs, parallel=parallel)
    by_table: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for table, name, ddl in indexes:
        by_table[table].append((f"index {name}", ddl.replace("$", "$$")))
    with ThreadPoolExecutor(parallel) as pool:
        futures = [pool.submit(run_steps, conninfo, steps, subs) for steps in by_table.values()]
        timings += [t for f in futures for t in f.result()]
    with connect(conninfo) as conn:
        for statement in CLEANUP:
            conn.execute(statement)
        for (table,) in conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'id' "
            "AND column_default LIKE 'nextval%' AND table_schema = 'public'"
        ).fetchall():
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
        tables = [
            t
            for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
    # Vacuumed and analyzed as autovacuum would have done over the year: visibility map
    # set (index-only scans possible), statistics fresh.
    vacuum = [
        (f"vacuum {t}", f"VACUUM (ANALYZE) {t}")
        for t in sorted(tables, key=BULK_TABLES.__contains__, reverse=True)
    ]
    timings += run_steps(conninfo, vacuum, subs, parallel=parallel)
    with connect(conninfo) as conn:
        conn.execute("CHECKPOINT")
        checks = {
            what: conn.execute(Template(sql).substitute(subs)).fetchone()[0]
            for what, sql in CHECKS.items()
        }
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in COUNTED
        }
        sizes = dict(
            conn.execute(
                "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
                "WHERE relname = ANY(%s)",
                ([*BULK_TABLES, "daily_tallies"],),
            ).fetchall()
        )
        database = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        sizes["database"] = database.fetchone()[0]
    seconds = time.perf_counter() - started
    print(f"  world built in {seconds:.0f} s; database {sizes['database']}; checks {checks}")
    bad = {what: value for what, value in checks.items() if value}
    if bad:
        raise SystemExit(f"the world is not sound: {bad}")
    return {
        "seconds": round(seconds, 1),
        "steps": timings,
        "counts": counts,
        "sizes": sizes,
        "checks": checks,
    }


COUNTED = (
    "users",
    "orders",
    "batches",
    "submissions",
    "daily_tallies",
    "invoices",
    "invoice_items",
    "invoice_shares",
    "ledger_transactions",
    "ledger_entries",
    "payouts",
)


# --------------------------------------------------------------------------- measuring


VIEWS = {
    "earnings": "GET /api/v1/me/earnings",
    "days": "GET /api/v1/me/earnings/days",
    "owner": "GET /api/v1/me/earnings (owner)",
}

LABELS = [
    # (what the statement's SQL holds, which code runs it), first match wins
    ("FROM api_tokens", "auth: token and roles"),
    ("JOIN invoice_shares", "_waiting_invoices"),
    ("FROM invoice_lines", "_waiting_invoices: invoice lines (selectin)"),
    ("SELECT DISTINCT contracts.order_id", "_unbilled_margins: orders with unbilled work"),
    ("JOIN batches ON", "_unbilled_margins: accepted_work(unbilled_only)"),
    ("FROM contracts", "_unbilled_margins: order_contracts"),
    ("invoice_items", "_unbilled"),
    ("invoice_id IS NULL", "_unbilled"),
    ("sum(daily_tallies", "work_totals"),
    ("FROM daily_tallies", "work_days"),
    ("FROM ledger_accounts", "ledger.earnings"),
    ("FROM parties", "the team (session.get)"),
]


def label_of(statement: str) -> str:
    for needle, label in LABELS:
        if needle in statement:
            return label
    return " ".join(statement.split())[:60]


@dataclass
class StatementLog:
    """Every statement the app's engine runs, with its time, while `calls` is not None."""

    calls: list | None = None

    def attach(self, engine) -> None:
        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.calls is not None:
            seconds = time.perf_counter() - conn.info.pop("bench_started")
            self.calls.append((statement, dict(parameters or {}), seconds))


@dataclass
class Run:
    """One view measured over a sample of callers."""

    view: str
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    db_seconds: list[float] = field(default_factory=list)
    statements: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    round_trips: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    captured: dict[int, list] = field(default_factory=dict)  # user -> [(label, sql, params)]
    machine: dict[str, Any] | None = None


def path_of(view: str, today: date, period_days: int) -> str:
    if view == "days":
        since = today - timedelta(days=period_days - 1)
        return f"/api/v1/me/earnings/days?from={since.isoformat()}&to={today.isoformat()}"
    return "/api/v1/me/earnings"


def check_answer(view: str, body: dict, period_days: int) -> str | None:
    """What is wrong with an answer, if anything."""
    if view == "owner":
        return None if body["holdings"] else "no holdings"
    if view == "days":
        if len(body["days"]) != period_days:
            return f"{len(body['days'])} days in a {period_days}-day period"
        return None
    holdings = body["holdings"]
    if len(holdings) != 1 or holdings[0]["holder"] != "annotator":
        return f"holdings {holdings!r}"
    holding = holdings[0]
    waiting = sum(Decimal(w["amount"]) for w in holding["waiting_on"])
    if Decimal(holding["pending"]) != waiting:
        return f"pending {holding['pending']} but waiting on {waiting}"
    if not holding["unbilled"] or Decimal(holding["paid"]) <= 0:
        return f"no unbilled work or nothing paid: {holding!r}"
    return None


def request(client, log: StatementLog, run: Run, user: int, path: str, period: int) -> None:
    """One request as the user (her own token), timed, its statements too."""
    log.calls = []
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(path, headers={"Authorization": f"Bearer {token_of(user)}"})
    run.seconds.append(time.perf_counter() - started)
    run.cpu_seconds.append(time.process_time() - cpu)
    calls, log.calls = log.calls, None
    if response.status_code != 200:
        run.failures.append(f"user {user}: {response.status_code} {response.get_data()[:200]}")
        return
    problem = check_answer(run.view, response.get_json(), period)
    if problem:
        run.failures.append(f"user {user}: {problem}")
    seen: dict[str, int] = defaultdict(int)
    captured = []
    for statement, params, seconds in calls:
        label = label_of(statement)
        seen[label] += 1
        if seen[label] > 1:
            label = f"{label} #{seen[label]}"
        run.statements[label].append(seconds)
        captured.append((label, statement, params))
    run.db_seconds.append(sum(seconds for _, _, seconds in calls))
    run.round_trips.append(len(calls))
    run.captured[user] = captured


def machine_load(meter: CpuMeter) -> dict[str, Any] | None:
    """How busy the machine's cores were since the meter started, and with what."""
    machine = meter.since_start(1)
    if not machine:
        return None
    return {
        "cores": machine["cores"],
        "cores_busy": {
            "postgres (all databases)": machine["cores_busy"]["postgres"],
            "this process (app and client)": machine["cores_busy"]["bench_client"],
            "other processes": machine["cores_busy"]["other"],
        },
    }


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


def spread(seconds: list[float]) -> dict[str, Any]:
    values = sorted(seconds)
    return {
        "count": len(values),
        "p50": ms(percentile(values, 50)),
        "p95": ms(percentile(values, 95)),
        "p99": ms(percentile(values, 99)),
        "max": ms(values[-1] if values else None),
    }


def summary(run: Run) -> dict[str, Any]:
    return {
        "request": VIEWS[run.view],
        "latency_ms": spread(run.seconds),
        "app_cpu_ms_per_request": spread(run.cpu_seconds),
        "db_ms_per_request": spread(run.db_seconds),
        "statements_per_request": max(run.round_trips, default=0),
        "statements_ms": {label: spread(times) for label, times in run.statements.items()},
        "machine": run.machine,
        "failures": run.failures[:20],
        "failed": len(run.failures),
    }


def explain(
    conninfo: str, run: Run, fresh: int | None, min_ms: float = 0.0
) -> list[dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the statements of the run's first request: for `fresh`, a
    team mate of its caller whom no request has read yet (her user id and token swapped in),
    so BUFFERS shows what a first reading costs; with no `fresh`, as they ran."""
    from marketplace.identity.service import digest

    user = next(iter(run.captured))
    swap = {user: fresh, digest(token_of(user)): digest(token_of(fresh))} if fresh else {}
    plans = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for label, statement, params in run.captured[user]:
            if ms(percentile(sorted(run.statements[label]), 50)) < min_ms:
                continue
            swapped = {k: swap.get(v, v) for k, v in params.items()}
            rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, swapped).fetchall()
            plan = "\n".join(r[0] for r in rows)
            plans.append(
                {
                    "label": label,
                    "sql": statement,
                    "params": {k: str(v) for k, v in swapped.items()},
                    "plan": plan,
                    **plan_figures(plan),
                }
            )
    return plans


def plan_figures(plan: str) -> dict[str, Any]:
    """What a plan did, whatever the machine's load: the pages it touched (its top node's
    buffers: found in shared_buffers, read from the OS) and its planning and execution time."""
    figures: dict[str, Any] = {}
    buffers = re.search(r"Buffers: shared((?: \w+=\d+)+)", plan)
    if buffers:
        pages = dict(re.findall(r"(\w+)=(\d+)", buffers.group(1)))
        figures["pages"] = {k: int(pages.get(k, 0)) for k in ("hit", "read")}
    for what in ("Planning", "Execution"):
        found = re.search(rf"{what} Time: ([\d.]+) ms", plan)
        if found:
            figures[f"{what.lower()}_ms"] = float(found.group(1))
    return figures


def team_mate(user: int, shape: Shape, taken: set[int]) -> int:
    """A user of the same team as `user` who is not in `taken`."""
    team = (user - shape.first_annotator) // shape.per_team
    first = shape.first_annotator + team * shape.per_team
    return next(u for u in range(first, first + shape.per_team) if u not in taken)


@contextmanager
def patched(changes: list[tuple[str, str, Any]]) -> Iterator[None]:
    """The marketplace functions replaced (in this process only) while inside."""
    saved = []
    try:
        for module_name, name, replacement in changes:
            module = importlib.import_module(module_name)
            saved.append((module, name, getattr(module, name)))
            setattr(module, name, replacement)
        yield
    finally:
        for module, name, original in reversed(saved):
            setattr(module, name, original)


def measure_stage(
    app,
    conninfo: str,
    log: StatementLog,
    shape: Shape,
    args,
    pool: list[int],
    taken: set[int],
    variants: dict[str, list[tuple[str, str, Any]]],
) -> dict[str, dict[str, Any]]:
    """Each variant (its code changes) on the database as it stands, request by request in
    turn, so that all of them see the same machine: per variant and view, `--calls` fresh
    annotators after `--warmup` others; then its plans, a few owners, and a witness's answers."""
    client = app.test_client()
    out: dict[str, dict[str, Any]] = {v: {"views": {}, "plans": {}} for v in variants}
    names = list(variants)
    for view in ("earnings", "days"):
        path = path_of(view, shape.today, args.period_days)
        users = {v: [pool.pop() for _ in range(args.warmup + args.calls)] for v in names}
        for sample in users.values():
            taken.update(sample)
        runs = {v: Run(view) for v in names}
        for v in names:
            with patched(variants[v]):
                for user in users[v][: args.warmup]:
                    request(client, log, Run(view), user, path, args.period_days)
        meter = CpuMeter()
        for i in range(args.warmup, args.warmup + args.calls):
            for v in names[i % len(names) :] + names[: i % len(names)]:
                with patched(variants[v]):
                    request(client, log, runs[v], users[v][i], path, args.period_days)
        machine = machine_load(meter)
        for v in names:
            runs[v].machine = machine
            out[v]["views"][view] = summary(runs[v])
            fresh = team_mate(users[v][args.warmup], shape, taken)
            taken.add(fresh)
            pool.remove(fresh)
            out[v]["plans"][view] = explain(conninfo, runs[v], fresh)
    for v in names:
        with patched(variants[v]):
            if args.owner_calls:
                run = Run("owner")
                meter = CpuMeter()
                for t in range(args.owner_calls):
                    request(
                        client, log, run, 3 + t % shape.teams, path_of("owner", shape.today, 0), 0
                    )
                run.machine = machine_load(meter)
                out[v]["views"]["owner"] = summary(run)
                out[v]["plans"]["owner"] = explain(conninfo, run, None, min_ms=5.0)
            # The same callers' answers under every variant: a faster one must answer the same.
            out[v]["answers"] = {
                view: client.get(
                    path_of(view, shape.today, args.period_days),
                    headers={"Authorization": f"Bearer {token_of(user)}"},
                ).get_json()
                for view, user in (("earnings", args.witness), ("days", args.witness), ("owner", 3))
            }
    return out


def print_phase(name: str, phase: dict[str, Any], target_ms: float) -> None:
    for view, result in phase["views"].items():
        lat = result["latency_ms"]
        db = result["db_ms_per_request"]
        cpu = result["app_cpu_ms_per_request"]
        slowest = max(result["statements_ms"].items(), key=lambda kv: kv[1]["p95"])
        verdict = "met" if lat["p95"] <= target_ms else "NOT met"
        other = (result["machine"] or {}).get("cores_busy", {}).get("other processes")
        print(
            f"  {name:<19} {result['request']:<32} p50 {lat['p50']:7.2f}  p95 {lat['p95']:7.2f}"
            f"  max {lat['max']:7.2f} ms  | app CPU p50 {cpu['p50']:.2f}, db p50 {db['p50']:.2f}"
            f" ms, {result['statements_per_request']} statements, slowest {slowest[0]}"
            f" (p95 {slowest[1]['p95']:.2f} ms)"
            + (f" | p95 <= {target_ms:g} ms: {verdict}" if view != "owner" else "")
            + (f" | other load {other} cores" if other is not None else "")
            + (f" | FAILED {result['failed']}" if result["failed"] else ""),
            flush=True,
        )


def plans_text(result: dict[str, Any]) -> str:
    out = [
        f"Plans of the earnings views, run {result['timestamp']} ({result['code']['code']}, "
        f"commit {result['code']['commit']}); world: {result['world'].get('counts')}.",
        "Each annotator view's statements as the app sent them, for an annotator no request",
        "had read yet (so BUFFERS 'read' is what a first request finds outside shared_buffers);",
        "for the owner, the statements slower than 5 ms as they ran.",
    ]
    for phase_name, phase in result["phases"].items():
        for view, plans in phase["plans"].items():
            timings = phase["views"][view]["statements_ms"]
            for plan in plans:
                t = timings.get(plan["label"], {})
                out += [
                    "",
                    "=" * 100,
                    f"{phase_name} / {VIEWS[view]} / {plan['label']}"
                    f"  (over the run: p50 {t.get('p50')} ms, p95 {t.get('p95')} ms)",
                    "=" * 100,
                    " ".join(plan["sql"].split()),
                    f"params: {plan['params']}",
                    "",
                    plan["plan"],
                ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- candidates

# Stage "indexes": two covering indexes, no code change. What each is for and the model's Index.
# (The billed mark, measured here before, is in the code and the migration now: `as_is`.)
INDEXES = [
    {
        "name": "ix_ledger_entries_account_amount",
        "for": "ledger.earnings: the holder's entries read from the index (no heap)",
        "ddl": "CREATE INDEX ix_ledger_entries_account_amount "
        "ON ledger_entries (account_id) INCLUDE (amount_minor)",
        "model": 'Entry: Index("ix_ledger_entries_account_amount", "account_id", '
        'postgresql_include=["amount_minor"]) instead of index=True on account_id',
    },
    {
        "name": "ix_invoice_shares_holder",
        "for": "_waiting_invoices: the holder's shares read from the index (no heap)",
        "ddl": "CREATE INDEX ix_invoice_shares_holder "
        "ON invoice_shares (user_id, party_id) INCLUDE (invoice_id, items, amount_minor)",
        "model": 'InvoiceShare: Index("ix_invoice_shares_holder", "user_id", "party_id", '
        'postgresql_include=["invoice_id", "items", "amount_minor"]) instead of index=True on '
        "user_id",
    },
]

# One variant a stage, one stage after the other (a stage's schema is every variant's): compare
# their pages, which the machine's load does not change, more than their times.
STAGES = {
    "stage 1: the schema as migrated": {"ddl": [], "variants": {"as_is": []}},
    "stage 2: and the covering indexes": {
        "ddl": [index["ddl"] for index in INDEXES] + ["ANALYZE"],
        "variants": {"indexes": []},
    },
}
VARIANTS = {
    "as_is": "the code and schema as they are (the billed mark: submissions.invoice_id and "
    "its partial indexes)",
    "indexes": "the covering indexes of ledger entries and invoice shares; the code as it is",
}


def ddl(conninfo: str, statements: list[str]) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for statement in statements:
            started = time.perf_counter()
            conn.execute(statement)
            print(
                f"  {' '.join(statement.split())[:100]:<100} {time.perf_counter() - started:6.1f} s"
            )
        unusable = conn.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indcheckxmin"
        )
        if unusable := [name for (name,) in unusable]:
            raise SystemExit(f"indexes unusable by older transactions (indcheckxmin): {unusable}")


def measure_all(app, conninfo, log, shape, args, pool, taken) -> dict[str, Any]:
    """The variants, stage by stage (or only the code as is, on the schema as migrated, with
    --no-candidates); whatever was built for them is dropped at the end."""
    if args.no_candidates:
        phase = measure_stage(app, conninfo, log, shape, args, pool, taken, {"as_is": []})
        print_phase("as_is", phase["as_is"], args.target_ms)
        return phase
    phases: dict[str, Any] = {}
    try:
        for stage, plan in STAGES.items():
            print(f"  {stage}")
            ddl(conninfo, plan["ddl"])
            measured = measure_stage(app, conninfo, log, shape, args, pool, taken, plan["variants"])
            for name, phase in measured.items():
                phase["stage"] = stage
                phase["variant"] = VARIANTS[name]
                print_phase(name, phase, args.target_ms)
            phases.update(measured)
    finally:
        ddl(conninfo, [f"DROP INDEX IF EXISTS {i['name']}" for i in INDEXES])
    return phases


# --------------------------------------------------------------------------- the run


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432"
    )
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    parser.add_argument("--server", default=server, help="PostgreSQL server, no database name")
    parser.add_argument("--annotators", type=int, default=5000)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--days", type=int, default=365, help="days of work, ending --today")
    parser.add_argument("--items-per-day", type=int, default=4, help="per annotator")
    parser.add_argument("--batch-annotators", type=int, default=25, help="annotators per batch")
    parser.add_argument("--reject-percent", type=int, default=3)
    parser.add_argument("--today", type=date.fromisoformat, default=today)
    parser.add_argument("--parallel", type=int, default=3, help="loading connections")
    parser.add_argument("--calls", type=int, default=500, help="measured calls per view")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured calls per view first")
    parser.add_argument("--period-days", type=int, default=31, help="of /me/earnings/days")
    parser.add_argument("--seed", type=int, default=7, help="seed of the annotator samples")
    parser.add_argument("--target-ms", type=float, default=TARGET_MS, help="p95 target")
    parser.add_argument("--owner-calls", type=int, default=1, help="of the team owner's view")
    parser.add_argument("--no-candidates", action="store_true", help="baseline only")
    parser.add_argument("--require-target", action="store_true", help="exit 1 above the target")
    parser.add_argument(
        "--rev", default=None, help="measure this git revision (exported) instead of the work tree"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--database", default=None, help="measure a kept database again instead of building one"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    export = tempfile.TemporaryDirectory(prefix="earnings-src-")
    source, code = use_source(args.rev, Path(export.name))
    if args.database:
        name, conninfo = args.database, f"{args.server}/{args.database}"
    else:
        name, conninfo = create_database(args.server)
    url = sqlalchemy_url(conninfo)
    app = make_app(url)
    shape = Shape(
        annotators=args.annotators,
        teams=args.teams,
        days=args.days,
        items_per_day=args.items_per_day,
        batch_annotators=args.batch_annotators,
        reject_percent=args.reject_percent,
        today=args.today,
        fee_bps=app.config["PLATFORM_FEE_BPS"],
    )
    shape.check()
    needed = (1 if args.no_candidates else len(STAGES)) * 2 * (args.calls + args.warmup + 1) + 1
    if needed > shape.annotators:
        raise SystemExit(f"{needed} annotators needed for fresh samples; --annotators or --calls")
    from marketplace import clock

    clock.set_source(lambda: shape.now)
    phases: dict[str, Any] = {}
    world: dict[str, Any] = {}
    try:
        if args.database:
            world = {"reused": name}
            with psycopg.connect(conninfo) as conn:
                world["counts"] = {
                    "submissions": conn.execute("SELECT count(*) FROM submissions").fetchone()[0]
                }
                last = conn.execute("SELECT max(day) FROM daily_tallies").fetchone()[0]
            if last != shape.today:
                raise SystemExit(f"{name} was built for --today {last}")
            print(f"database {name} (kept from an earlier run)")
        else:
            print(
                f"database {name}; {shape.annotators} annotators x {shape.days} days x "
                f"{shape.items_per_day} items = {shape.submissions:,} submissions ..."
            )
            migrate(url, source)
            world = build_world(conninfo, app, shape, args.parallel)
        facts = server_facts(conninfo)
        log = StatementLog()
        with app.app_context():
            from marketplace.db import db

            log.attach(db.engine)
        pool = list(range(shape.first_annotator, shape.first_annotator + shape.annotators))
        random.Random(args.seed).shuffle(pool)
        args.witness = pool.pop()
        taken: set[int] = {args.witness}
        phases.update(measure_all(app, conninfo, log, shape, args, pool, taken))
    finally:
        if not args.keep_database and not args.database:
            drop_database(args.server, name)
        elif not args.database:
            print(f"kept database {name} (measure it again with --database {name})")
        export.cleanup()

    result = {
        "benchmark": "earnings",
        "timestamp": stamp,
        "code": code,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "postgresql": facts,
        },
        "setup": {
            "annotators": shape.annotators,
            "teams": shape.teams,
            "days": shape.days,
            "items_per_day": shape.items_per_day,
            "submissions": shape.submissions,
            "today": shape.today.isoformat(),
            "clock": shape.now.isoformat(),
            "calls_per_view": args.calls,
            "warmup_calls": args.warmup,
            "period_days": args.period_days,
            "seed": args.seed,
            "how": "Flask test client, the annotator's own bearer token, one request at a time",
        },
        "world": world,
        "target_p95_ms": args.target_ms,
        "phases": {
            name_: {
                **{k: v for k, v in phase.items() if k not in ("plans", "answers")},
                "plans": {
                    view: {
                        p["label"]: {
                            k: p[k] for k in ("pages", "planning_ms", "execution_ms") if k in p
                        }
                        for p in plans
                    }
                    for view, plans in phase["plans"].items()
                },
            }
            for name_, phase in phases.items()
        },
    }
    result["answers_differ"] = [
        f"{name_}: {view}"
        for name_, phase in phases.items()
        for view, answer in phase["answers"].items()
        if answer != phases["as_is"]["answers"][view]
    ]
    result["meets_target"] = {
        view: r["latency_ms"]["p95"] <= args.target_ms
        for view, r in phases["as_is"]["views"].items()
        if view != "owner"
    }
    text = json.dumps(result, indent=2, default=str) + "\n"
    plans = plans_text({**result, "phases": phases})
    for suffix in (f"-{stamp}", ""):
        (args.output / f"earnings{suffix}.json").write_text(text)
        (args.output / f"earnings{suffix}-plans.txt").write_text(plans)
    print(f"  written to {shown(args.output / 'earnings.json')} and earnings-plans.txt")
    failed = sum(v["failed"] for phase in phases.values() for v in phase["views"].values())
    if failed or result["answers_differ"]:
        print(f"FAILED answers: {failed} (see failures in the JSON)")
        print(f"answers other than the baseline's: {result['answers_differ']}")
        return 1
    if args.require_target and not all(result["meets_target"].values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
