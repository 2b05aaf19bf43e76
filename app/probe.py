"""Liveness for the roles that serve no HTTP (worker, scheduler, controller): a file touched while alive.

The role touches `/tmp/kubekuma-<role>.alive` every few seconds from a thread of its own;
the container's exec probe (`python -m app.probe worker`) fails once the file is older
than `--max-age` seconds: the interpreter is wedged or the role has stopped. The web role
has `/healthz` and `/readyz` instead.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path


def alive_file(role: str) -> Path:
    return Path(tempfile.gettempdir()) / f"kubekuma-{role}.alive"


def fresh(path: Path, max_age: float, now: float) -> bool:
    try:
        return now - path.stat().st_mtime <= max_age
    except OSError:
        return False


def start_heartbeat(
    role: str, stop: threading.Event, every: float = 5.0, path: Path | None = None
) -> threading.Thread:
    path = path or alive_file(role)

    def beat() -> None:
        while not stop.is_set():
            try:
                path.touch()
            except OSError:
                pass  # a full or read-only /tmp shows up as a failing probe, which is the point
            stop.wait(every)

    thread = threading.Thread(target=beat, name=f"{role}-heartbeat", daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.probe", description=__doc__)
    p.add_argument("role", choices=["worker", "scheduler", "controller"])
    p.add_argument("--max-age", type=float, default=60.0)
    args = p.parse_args(argv)
    ok = fresh(alive_file(args.role), args.max_age, time.time())
    if not ok:
        print(f"{alive_file(args.role)} is missing or older than {args.max_age:.0f}s", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
