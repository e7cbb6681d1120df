"""The SQL of the world's money: invoices, shares, payments, payouts, the ledger; the
scaffold's cleanup and the checks of a sound world (steps run by world.build_world)."""

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
