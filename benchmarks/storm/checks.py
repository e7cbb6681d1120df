"""The checks: the clients' reports against what the database holds."""

from __future__ import annotations

from typing import Any

import psycopg

from .world import Seed

# Each of these db_check counts must be 0.
MUST_BE_ZERO = (
    "claimed_by_other_than_reported_winner",
    "claimed_without_reported_win",
    "status_claimant_inconsistent",
    "items_with_two_tasks",
    "batches_with_wrong_tasks",
    "teams_with_wrong_contract",
)


def check_database(conninfo: str, seed_: Seed, wins_by_batch: dict[int, list[int]]) -> dict:
    """Cross-check the clients' reports against what the database holds."""
    with psycopg.connect(conninfo) as conn:
        held = dict(
            conn.execute(
                "SELECT id, claimed_by_party_id FROM batches "
                "WHERE order_id = %s AND status = 'claimed'",
                (seed_.order_id,),
            ).fetchall()
        )
        inconsistent = conn.execute(
            "SELECT count(*) FROM batches WHERE order_id = %s AND "
            "((status = 'claimed') <> (claimed_by_party_id IS NOT NULL))",
            (seed_.order_id,),
        ).fetchone()[0]
        duplicate_tasks = conn.execute(
            "SELECT count(*) FROM (SELECT item_id FROM tasks WHERE order_id = %s "
            "GROUP BY item_id HAVING count(*) > 1) d",
            (seed_.order_id,),
        ).fetchone()[0]
        task_mismatch = conn.execute(
            """
            SELECT count(*) FROM batches b
            LEFT JOIN (
                SELECT batch_id, count(*) AS n, count(*) FILTER (
                    WHERE team_party_id <> b2.claimed_by_party_id) AS foreign_
                FROM tasks t JOIN batches b2 ON b2.id = t.batch_id
                WHERE t.order_id = %(order)s GROUP BY batch_id
            ) t ON t.batch_id = b.id
            WHERE b.order_id = %(order)s AND (
                coalesce(t.n, 0) <> CASE WHEN b.status = 'claimed' THEN b.item_count ELSE 0 END
                OR coalesce(t.foreign_, 0) > 0)
            """,
            {"order": seed_.order_id},
        ).fetchone()[0]
        contract_mismatch = conn.execute(
            """
            SELECT count(*) FROM (
                SELECT claimed_by_party_id AS team, sum(item_count) AS items FROM batches
                WHERE order_id = %(order)s AND status = 'claimed' GROUP BY claimed_by_party_id
            ) b FULL JOIN (
                SELECT downstream_party_id AS team, sum(quantity) AS items, count(*) AS n
                FROM contracts WHERE order_id = %(order)s GROUP BY downstream_party_id
            ) c ON c.team = b.team
            WHERE b.items IS DISTINCT FROM c.items OR c.n <> 1
            """,
            {"order": seed_.order_id},
        ).fetchone()[0]
    wrong_holder = sum(
        1
        for batch, teams in wins_by_batch.items()
        if len(teams) == 1 and held.get(batch) != teams[0]
    )
    unreported = sum(1 for batch in held if batch not in wins_by_batch)
    return {
        "batches_claimed_in_db": len(held),
        "claimed_by_other_than_reported_winner": wrong_holder,
        "claimed_without_reported_win": unreported,
        "status_claimant_inconsistent": inconsistent,
        "items_with_two_tasks": duplicate_tasks,
        "batches_with_wrong_tasks": task_mismatch,
        "teams_with_wrong_contract": contract_mismatch,
    }


def double_claims(app_run: dict[str, Any], db_check: dict[str, int]) -> int:
    """Batches two claimers were told they won, batches held by another team than the one
    told it won, and items with two tasks."""
    return (
        app_run["double_claims_reported"]
        + db_check["claimed_by_other_than_reported_winner"]
        + db_check["items_with_two_tasks"]
    )


def failed_checks(app_run: dict[str, Any], db_check: dict[str, int]) -> list[str]:
    failures = [key for key in MUST_BE_ZERO if db_check[key]]
    if app_run["double_claims_reported"]:
        failures.append("double_claims_reported")
    if app_run["errors"]:
        failures.append("request_errors")
    if db_check["batches_claimed_in_db"] != app_run["claims"]:
        failures.append("claims_in_db_differ_from_reported")
    return failures
