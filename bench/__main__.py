"""`python -m bench [--quick] [--only NAME]`: run each benchmark in turn and print its figures.

Benchmarks print medians, percentiles and ratios beside their targets; they never assert a
timing (the machine is small and shared). `--quick` (or BENCH_QUICK=1) shortens every
window; `--only` runs one of them. Raw figures land in bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from bench.common import load_average, quick_from_env, say

# name -> module, in the order they run; each has main(quick) and talks to 127.0.0.1 only.
BENCHMARKS = {
    "scheduler": "bench.scheduler",
    "pipeline": "bench.pipeline",
    "hotpath": "bench.hotpath",
    "checkers": "bench.checkers",
    "services": "bench.services",
    "push": "bench.push",
    "kube": "bench.kube",
    "alerting": "bench.alerting",
    "maintenance": "bench.maintenance",
    "public": "bench.public",
    "access": "bench.access",
    "dashboard": "bench.dashboard",
}
# Written alongside other work: run when present, skipped with a note when not (yet) there.
OPTIONAL = {"checkers", "services", "push", "kube", "alerting", "public", "access", "dashboard"}


def _optional_main(module: str) -> Callable[[bool], Any] | None:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise
    fn = getattr(mod, "main", None)
    if fn is None:
        return None

    takes_quick = "quick" in inspect.signature(fn).parameters

    def run(quick: bool) -> Any:
        return fn(quick=quick) if takes_quick else fn()

    return run


def _runner(name: str) -> Callable[[bool], Any] | None:
    if name in OPTIONAL:
        return _optional_main(BENCHMARKS[name])
    return importlib.import_module(BENCHMARKS[name]).main  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument(
        "--quick", action="store_true", help="shorter windows and smaller sizes (or BENCH_QUICK=1)"
    )
    ap.add_argument("--only", choices=sorted(BENCHMARKS), help="run one benchmark")
    args = ap.parse_args(argv)
    quick = args.quick or quick_from_env()
    names = [args.only] if args.only else list(BENCHMARKS)
    say(
        f"KubeKuma benchmarks ({'quick' if quick else 'full'}) on {platform.node()}: Python"
        f" {platform.python_version()}, {_cores()} cores, load {load_average()},"
        f" {time.strftime('%Y-%m-%d %H:%M:%S %Z')}"
    )
    failed = []
    for name in names:
        start = time.monotonic()
        try:
            run = _runner(name)
            if run is None:
                say(f"== {name}: skipped (bench/{name}.py or its main() is not there yet)")
                continue
            run(quick)
        except KeyboardInterrupt:
            say(f"== {name}: interrupted")
            return 130
        except Exception:
            failed.append(name)
            say(f"== {name}: FAILED\n{traceback.format_exc()}")
        say(f"   ({name} took {time.monotonic() - start:.0f}s)\n")
    if failed:
        say(f"benchmarks that failed to run: {', '.join(failed)}")
        return 1
    return 0


def _cores() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
