"""Which code the benchmark measures: the work tree, or a revision exported from Git."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()


def use_source(rev: str | None, into: Path) -> tuple[Path, dict[str, Any]]:
    """The code to measure: the work tree, or `rev` exported from git into `into`.

    Returns where that code is and what it is. An exported revision (`git archive`,
    nothing in the repository changes) is measured exactly as committed, whatever
    is being edited in the work tree.
    """
    if rev is None:
        marketplace_dirty = bool(git("status", "--porcelain", "--", "marketplace", "migrations"))
        return ROOT, {
            "code": "work tree",
            "commit": git("rev-parse", "HEAD") or None,
            "dirty": marketplace_dirty,
        }
    commit = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    if not commit:
        raise SystemExit(f"no git revision {rev!r}")
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    sys.path.insert(0, str(into))
    # Import the package now: Alembic later puts the current directory first on sys.path.
    import marketplace

    if not Path(marketplace.__file__).is_relative_to(into):
        raise SystemExit(f"marketplace came from {marketplace.__file__}, not the export")
    return into, {"code": f"git archive {rev}", "commit": commit, "dirty": False}
