"""The report: the JSON files of a run and the table it prints."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from .source import shown


def machine(postgresql: dict[str, str]) -> dict[str, Any]:
    """The result's "machine": this machine's cores, Python and platform, and the server's facts."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "postgresql": postgresql,
    }


def write_result(result: dict[str, Any], output: Path) -> Path:
    """drop_storm-<stamp>.json and latest.json in `output`; the first one's path."""
    path = output / f"drop_storm-{result['timestamp']}.json"
    text = json.dumps(result, indent=2) + "\n"
    path.write_text(text)
    (output / "latest.json").write_text(text)
    return path


def print_table(result: dict[str, Any], path: Path) -> None:
    app = result["app"]
    lat = app["latency_ms"]
    rows = [
        (
            "raw ceiling (best of "
            + ", ".join(str(r["connections"]) for r in result["raw"]["runs"])
            + " conns)",
            f"{result['raw']['ceiling_claims_per_second']:,.0f} claims/s",
        ),
        (
            "app claims",
            f"{app['claims_per_second']:,.0f} claims/s "
            f"({app['claims']} in {app['seconds']:.2f} s, drop cleared: {app['drop_cleared']})",
        ),
        (
            "app requests",
            f"{app['requests_per_second']:,.0f} req/s "
            f"({app['conflicts_409']} x 409, {sum(app['errors'].values())} errors)",
        ),
        ("latency p50 / p99", f"{lat['p50']} / {lat['p99']} ms (max {lat['max']} ms)"),
        ("double claims", str(app["double_claims"])),
        (
            "ratio app / ceiling",
            f"{result['ratio']:.3f} (target >= {result['target_ratio']}: "
            f"{'met' if result['meets_target'] else 'NOT met'})",
        ),
    ]
    cpu = app.get("cpu")
    if cpu and cpu["cpu_us_per_claim"]:
        per = cpu["cpu_us_per_claim"]
        rows.append(
            (
                "CPU per claim",
                f"app {per['app_workers']:.0f} us, postgres "
                f"{per['postgres']:.0f} us, client {per['bench_client']:.0f} us",
            )
        )
        busy = cpu["cores_busy"]
        rows.append(
            (
                "cores busy",
                f"app {busy['app_workers']}, postgres {busy['postgres']}, "
                f"client {busy['bench_client']}, other processes {busy['other']} "
                f"(of {cpu['cores']})",
            )
        )
    census_ = result["census"]
    rows.append(
        (
            "round trips per claim",
            f"win {census_['win']['round_trips']}, loss {census_['loss']['round_trips']}",
        )
    )
    width = max(len(label) for label, _ in rows)
    print()
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    for view, summary in (result["profile"] or {}).items():
        what = "wall clock, DB waits included" if view == "wall_clock" else "on CPU only"
        print(f"\n  where a request's time goes (py-spy on one worker, {what}):")
        for row in summary["phases"]:
            wait = f"  (of which waiting on DB {row['db_wait_share']:5.1%})"
            print(
                f"    {row['phase']:<40} {row['share']:6.1%}{wait if view == 'wall_clock' else ''}"
            )
    print(f"\n  written to {shown(path)}")
