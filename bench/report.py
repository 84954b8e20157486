"""Run every benchmark in one go and publish the figures in docs/benchmarks.md.

    .venv/bin/python bench/report.py [--quick]

One after another, on the same machine and in the same minutes: the page endpoints with server startup,
memory and page weight (bench/run.py), votes through HTTP and the 5,000-household recount (bench/votes.py),
the 100,000-entry ledger (bench/ledger.py), the pure tally (bench/tally.py) and a 5,000-household roll
import (bench/import_roll.py). Every HTTP figure is a ratio to a bare WSGI hello-world measured in the same
run under the same waitress settings: these machines are shared and absolute numbers drift. Each script's
own report is included as it printed it; exit status 0 when every script ran (targets missed are reported,
not fatal), 1 when one failed to run.
"""
import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
OUT = ROOT / "docs" / "benchmarks.md"


def run(title, args, result_file=None, timeout=1800):
    """Run one bench script; return (title, ok, markdown) — its result file if it writes one, else its output."""
    print(f"== {title}: {' '.join(args)}", flush=True)
    started = time.monotonic()
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    seconds = time.monotonic() - started
    ok = done.returncode in (0, 2)  # 2: ran cleanly but a target was missed
    if result_file and (RESULTS / result_file).exists() and ok:
        body = (RESULTS / result_file).read_text(encoding="utf-8")
        body = "\n".join(line for line in body.splitlines() if not line.startswith("# "))
    else:
        body = "```\n" + (done.stdout[-6000:] or "") + ("\n" + done.stderr[-3000:] if not ok else "") + "\n```"
    verdict = "ran" if done.returncode == 0 else "ran, a target was missed" if done.returncode == 2 else \
        f"FAILED (exit {done.returncode})"
    print(f"   {verdict} in {seconds:.0f} s", flush=True)
    return title, ok, f"## {title}\n\n_{verdict}; {seconds:.0f} s_\n\n{body.strip()}\n"


def machine():
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{len(os.sched_getaffinity(0))} cores ({cpu}), {mem}, {platform.system()} {platform.release()}, " \
           f"Python {platform.python_version()}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (5 s) for a smoke test of the report")
    args = parser.parse_args(argv)
    duration = "5" if args.quick else "10"
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    started = datetime.datetime.now().astimezone()
    sections = [
        run("Pages, startup, memory and page weight", ["bench/run.py", "--duration", duration], "latest.md"),
        run("Votes through HTTP and the 5,000-household recount",
            ["bench/votes.py", "--duration", duration], "votes-latest.md"),
        run("The ledger at 100,000 entries, every request rendered (page cache off)",
            ["bench/ledger.py", "--duration", duration, "--no-page-cache"], "ledger-latest.md"),
        run("The ledger at 100,000 entries, as served (page cache on)",
            ["bench/ledger.py", "--duration", duration], "ledger-latest.md"),
        run("The tally alone (no database)", ["bench/tally.py"]),
        run("Importing a 5,000-household roll", ["bench/import_roll.py"]),
    ]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {started:%Y-%m-%d %H:%M %z} by `bench/report.py`, all in one run on one machine: "
        f"{machine()}. Load average at the start: {load_before}; at the end: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}.",
        "",
        "Every HTTP figure comes with the same load on a bare WSGI hello-world served by waitress with the same "
        "settings, measured right before it; the **ratio** (app ÷ hello) is the number to compare between runs, "
        "since this machine is shared and absolute numbers drift. Targets come from the issues; a missed target "
        "is printed as **MISSED**, not hidden.",
        "",
    ]
    lines += [body for _, _, body in sections]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print(f"written to {OUT}")
    return 0 if all(ok for _, ok, _ in sections) else 1


if __name__ == "__main__":
    sys.exit(main())
