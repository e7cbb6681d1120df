"""The stages and their variants: each measured in turn on the database as it stands."""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from storm.cpu import CpuMeter

from .measure import Run, StatementLog, machine_load, path_of, print_phase, request, summary
from .plans import explain
from .world import Shape, token_of


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
