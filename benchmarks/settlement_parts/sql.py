"""The SQL of the world: the parties and people, the order and its three-link chain, the
week's accepted work (steps run by world.build_world).

Each step: (what, SQL). `$NAME`s are World.substitutions() (and, for an order's steps,
World.order_substitutions()). Ids are fixed: parties 1 the platform, 2 the client, 3-5
teams A, B, C; users 1 the client's admin, 2 the platform's, 3-5 the owners of A, B, C
(user p owns party p), then the annotators from $UB, all members of team C.
"""

PEOPLE = [
    (
        "parties (the platform, the client, teams A, B, C)",
        """
        INSERT INTO parties (id, kind, name, bank_account, timezone, created_at)
        VALUES (1, 'platform', 'Piecework', NULL, '$TZ', '$WEEK0'::date - 90),
               (2, 'client', 'Bench Client', 'CN-CLIENT', '$TZ', '$WEEK0'::date - 90),
               (3, 'team', 'Team A (prime contractor)', 'CN-TEAM-A', '$TZ', '$WEEK0'::date - 80),
               (4, 'team', 'Team B (middleman)', 'CN-TEAM-B', '$TZ', '$WEEK0'::date - 80),
               (5, 'team', 'Team C (the workshop)', 'CN-TEAM-C', '$TZ', '$WEEK0'::date - 80)
        """,
    ),
    (
        "users (two admins, three owners, the annotators)",
        """
        INSERT INTO users (id, email, name, password_hash, bank_account, locale, created_at)
        SELECT 1, 'buyer@bench.example', 'Buyer', %(hash)s, NULL, 'zh_CN', '$WEEK0'::date - 90
        UNION ALL
        SELECT 2, 'admin@bench.example', 'Admin', %(hash)s, NULL, 'zh_CN', '$WEEK0'::date - 90
        UNION ALL
        SELECT p, 'owner' || p || '@bench.example', 'Owner ' || p, %(hash)s, NULL, 'zh_CN',
               '$WEEK0'::date - 80
        FROM generate_series(3, 5) p
        UNION ALL
        SELECT $UB + a, 'annotator' || a || '@bench.example', 'Annotator ' || a, %(hash)s,
               'CN-BANK-' || a, 'zh_CN', '$WEEK0'::date - 60 + mod(a, 30)
        FROM generate_series(0, $A - 1) a
        """,
    ),
    (
        "memberships (the annotators in team C)",
        """
        INSERT INTO memberships (user_id, party_id, role, created_at)
        SELECT 1, 2, 'client_admin', '$WEEK0'::date - 90
        UNION ALL SELECT 2, 1, 'platform_admin', '$WEEK0'::date - 90
        UNION ALL SELECT p, p, 'team_owner', '$WEEK0'::date - 80 FROM generate_series(3, 5) p
        UNION ALL SELECT $UB + a, 5, 'annotator', '$WEEK0'::date - 60 + a % 30
        FROM generate_series(0, $A - 1) a
        """,
    ),
    (
        "levels of team C and their piece rates (0.0325-0.0475: lines round)",
        """
        WITH l AS (
            INSERT INTO levels (id, team_party_id, name, rank, daily_quota, reviews, created_at)
            SELECT r, 5, (ARRAY['trainee', 'annotator', 'senior', 'expert'])[r], r, NULL,
                   r = 4, '$WEEK0'::date - 80
            FROM generate_series(1, 4) r
            RETURNING id
        )
        INSERT INTO level_rates (level_id, task_type, currency, unit_price_micros)
        SELECT id, 'bbox_2d', 'CNY', $RATE0 + $RATE_STEP * (id - 1) FROM l
        """,
    ),
    (
        "level changes (each annotator's level; a third promoted during the week)",
        """
        INSERT INTO level_changes (team_party_id, user_id, level_id, from_level_id,
            changed_by_user_id, note, accuracy_bps, created_at)
        SELECT 5, $UB + a, 1 + a % 4, NULL, 5, NULL, NULL, '$WEEK0'::date - 60 + a % 30
        FROM generate_series(0, $A - 1) a
        UNION ALL
        SELECT 5, $UB + a, 2 + a % 4, 1 + a % 4, 5, 'promoted', 9800,
               ('$WEEK0'::date + 1 + a % 4 + time '12:00') AT TIME ZONE '$TZ'
        FROM generate_series(0, $A - 1) a WHERE a % 3 = 0 AND a % 4 < 3
        ORDER BY 8
        """,
    ),
]

# One order's steps. Item n (0-based) is annotator a = n % A's j-th item, j = n / A, of the
# order's P = N / A: her items are spread over Monday to Friday of the week ($WEEK0), eight
# hours a day, reviewed three hours after their submission, so rows are written in the
# order real work writes them (all annotators, hour by hour). Her level (and rate) is
# 1 + a % 4; a third of them (a % 3 = 0, below the top level) are promoted at noon of
# Tuesday to Thursday, so their items carry two rates: each rate's line rounds apart.
ORDER = [
    (
        "order $O ($N items, 0.10 CNY, billed weekly)",
        """
        INSERT INTO orders (id, client_party_id, title, task_type, instructions,
            unit_price_micros, currency, quantity, payment_terms_days, batch_size, status,
            published_at, created_at, claim_mode, sourcing, trial_batches, review_sample_bps,
            accuracy_threshold_bps, review_window_days, task_lease_minutes, billing_period,
            max_chain_depth)
        VALUES ($O, 2, 'Street scenes, week of $WEEK0 ($N)', 'bbox_2d',
                'Draw a tight box around every vehicle.', $PRICE_A, 'CNY', $N, $TERMS, $BS,
                'published', ('$WEEK0'::date - 3 + time '08:00') AT TIME ZONE '$TZ',
                ('$WEEK0'::date - 4 + time '08:00') AT TIME ZONE '$TZ', 'first_come', 'bids',
                0, 10000, 0, 3, 120, 'weekly', 3)
        """,
    ),
    (
        "contracts of order $O: client -> A -> B -> C",
        """
        INSERT INTO contracts (id, order_id, upstream_party_id, downstream_party_id,
            unit_price_micros, currency, quantity, parent_contract_id, depth, source, created_at)
        VALUES ($CA, $O, 2, 3, $PRICE_A, 'CNY', $N, NULL, 1, 'award',
                ('$WEEK0'::date - 3 + time '10:00') AT TIME ZONE '$TZ'),
               ($CB, $O, 3, 4, $PRICE_B, 'CNY', $N, $CA, 2, 'offer',
                ('$WEEK0'::date - 3 + time '11:00') AT TIME ZONE '$TZ'),
               ($CC, $O, 4, 5, $PRICE_C, 'CNY', $N, $CB, 3, 'offer',
                ('$WEEK0'::date - 3 + time '12:00') AT TIME ZONE '$TZ')
        """,
    ),
    (
        "piece rate of team C on order $O (the rate of members with no level rate)",
        """
        INSERT INTO piece_rates (team_party_id, order_id, unit_price_micros, currency,
            set_by_user_id, created_at)
        VALUES (5, $O, $PIECE_RATE, 'CNY', 5,
                ('$WEEK0'::date - 3 + time '13:00') AT TIME ZONE '$TZ')
        """,
    ),
    (
        "batches of order $O ($BS items; claimed by A, passed down to C)",
        """
        INSERT INTO batches (id, order_id, seq, item_count, status, released_at,
            claimed_by_party_id, claimed_at, kind, returned_items, contract_id, created_at)
        SELECT $BOFF + b + 1, $O, b + 1, least($BS, $N - b * $BS), 'finished',
               ('$WEEK0'::date - 1 + time '07:00') AT TIME ZONE '$TZ', 5,
               ('$WEEK0'::date - 1 + time '08:00') AT TIME ZONE '$TZ', 'regular', 0, $CC,
               ('$WEEK0'::date - 2 + time '07:00') AT TIME ZONE '$TZ'
        FROM generate_series(0::bigint, $NB - 1) b
        """,
    ),
    (
        "work of order $O (a view: one row per item)",
        """
        CREATE VIEW bench_work_$O AS
        SELECT n, x.*, y.*, z.*
        FROM generate_series(0::bigint, $N - 1) n
        CROSS JOIN LATERAL (
            SELECT (n % $A)::int AS a, (n / $A)::int AS j, $BOFF + n / $BS + 1 AS batch_id
        ) x
        CROSS JOIN LATERAL (
            SELECT $UB + x.a AS user_id,
                   ('$WEEK0'::date + x.j * 5 / $P + time '09:00'
                    + make_interval(secs => (x.j * 5 % $P) * 28800.0 / $P + x.a % 600))
                       AT TIME ZONE '$TZ' AS submitted_at,
                   x.a % 4 AS base_level,
                   x.a % 3 = 0 AND x.a % 4 < 3 AS promoted,
                   ('$WEEK0'::date + 1 + x.a % 4 + time '12:00') AT TIME ZONE '$TZ'
                       AS promoted_at
        ) y
        CROSS JOIN LATERAL (
            SELECT y.submitted_at + interval '3 hours' AS reviewed_at,
                   1 + y.base_level + (y.promoted
                       AND y.submitted_at + interval '3 hours' >= y.promoted_at)::int AS level_id
        ) z
        """,
    ),
]

# Independent of each other: run side by side (every order's).
WORK = [
    (
        "items of order $O",
        """
        INSERT INTO items (id, order_id, seq, ref, payload, batch_id)
        SELECT $IOFF + n + 1, $O, n + 1, 's3://bench/$O/' || (n + 1) || '.jpg',
               '{"width": 1920, "height": 1080}'::json, batch_id
        FROM bench_work_$O
        """,
    ),
    (
        "tasks of order $O",
        """
        INSERT INTO tasks (id, item_id, batch_id, order_id, team_party_id, status,
            annotator_user_id, assigned_at, lease_expires_at, reworks, level_id, created_at)
        SELECT $IOFF + n + 1, $IOFF + n + 1, batch_id, $O, 5, 'accepted', user_id,
               submitted_at - interval '20 minutes', NULL, 0, level_id,
               ('$WEEK0'::date - 1 + time '08:00') AT TIME ZONE '$TZ'
        FROM bench_work_$O
        """,
    ),
    (
        "submissions of order $O (accepted, at the level's rate)",
        """
        INSERT INTO submissions (id, task_id, batch_id, order_id, team_party_id,
            annotator_user_id, result, submitted_at, status, reason_code, reason,
            reviewer_user_id, reviewed_at, rate_micros, level_id, sample_round, created_at,
            invoice_id)
        SELECT $IOFF + n + 1, $IOFF + n + 1, batch_id, $O, 5, user_id,
               '{"boxes": [{"label": "car", "x": 1, "y": 2, "w": 30, "h": 40}]}'::json,
               submitted_at, 'accepted', NULL, NULL, 5, reviewed_at,
               $RATE0 + $RATE_STEP * (level_id - 1), level_id, NULL, submitted_at, NULL
        FROM bench_work_$O
        """,
    ),
]

CHECKS = {
    # Each must be 0 on a sound world.
    "accepted submissions other than the orders' items": """
        SELECT (SELECT count(*) FROM submissions WHERE status = 'accepted') - $ITEMS""",
    "batches whose items are not their item count": """
        SELECT count(*) FROM batches b
        WHERE item_count <> (SELECT count(*) FROM items i WHERE i.batch_id = b.id)""",
    "annotators without the order's share of items": """
        SELECT count(*) FROM (
            SELECT order_id, annotator_user_id FROM submissions GROUP BY 1, 2
            HAVING count(*) <> (SELECT quantity FROM orders o WHERE o.id = order_id) / $A) x""",
    "submissions accepted outside the week": """
        SELECT count(*) FROM submissions
        WHERE reviewed_at < ('$WEEK0'::date + time '00:00') AT TIME ZONE '$TZ'
           OR reviewed_at >= ('$WEEK0'::date + 7 + time '00:00') AT TIME ZONE '$TZ'""",
    "indexes unusable by older transactions (pg_index.indcheckxmin)": """
        SELECT count(*) FROM pg_index WHERE indcheckxmin""",
}
