"""The SQL of the world's people, its scaffold and its work: parties, users, orders, batches,
items, tasks, submissions, daily tallies (steps run by world.build_world)."""

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
