"""The ledger at scale: 100,000 posted entries over 5 years in one compound, the residents' period page under
waitress, as a ratio to hello-world in the same run, with p50/p95/p99.

    .venv/bin/python bench/ledger.py [--entries 100000] [--years 5] [--duration 10] [--threads 8]
                                     [--connections 1,16] [--rounds 1] [--database-url URL]

Builds the data fast in a temporary instance folder: a migrated SQLite database (or the empty database at
--database-url), one compound whose entries are bulk-INSERTed with correct chain hashes computed here with
kiosk.ledger.chain (so `kiosk verify` passes), and one published, signed Period per month with correct figures.
Then it times `kiosk verify` and one GET of the public verify page, starts `kiosk serve` and bench/hello.py
under the same waitress settings as bench/run.py, and for each URL and connection count runs `wrk` against
hello and straight after against the page (a Lua script reports p95, which `wrk --latency` does not print).
Prints a markdown table and writes it to bench/results/ledger-<timestamp>.md and ledger-latest.md.

Target (issue 6, "Scale"): a period page renders in ≤ 100 ms at p95. Exit status: 0 clean and met,
1 a run failed, 2 the target was missed.
"""
import argparse
import calendar
import datetime
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import (HOST, RESULTS, WRK_THREADS, BenchError, Run, fmt_ms, free_port, get,  # noqa: E402
                       git_revision, hello_command, kiosk_command, memory, package_version, parse_wrk,
                       server_env, start, stop, wait_ready, wrk_version)

SLUG = "fengshu"
TARGET_P95_MS = 100.0
DATASETTE_TARGET = 50.0  # issue 16: our uncached period page ≥ 50 × datasette's table page of the same month
P95_LUA = """
done = function(summary, latency, requests)
  io.write(string.format("LATENCY_US p50=%d p95=%d p99=%d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""

# (category, kind, weight, smallest fen, largest fen, counterparty, a person?)
LINES = [
    ("停车费", "income", 46, 500, 30000, "小区停车管理处", False),
    ("场地租金", "income", 6, 50000, 300000, "东门便民超市", False),
    ("广告费", "income", 3, 100000, 450000, "湘江电梯广告有限公司", False),
    ("其他收入", "income", 3, 1000, 20000, "废品回收站", False),
    ("监控门禁", "expense", 8, 5000, 80000, "安居智能安防科技有限公司", False),
    ("管道疏通", "expense", 6, 20000, 98000, "通达管道疏通服务部", False),
    ("垃圾清运", "expense", 10, 10000, 60000, "长沙市洁城环卫服务有限公司", False),
    ("消杀", "expense", 4, 5000, 40000, "绿盾有害生物防治有限公司", False),
    ("福利发放", "expense", 2, 10000, 90000, "东门便民超市", False),
    ("维修", "expense", 9, 2000, 90000, "黄建军", True),
    ("其他支出", "expense", 3, 500, 15000, "社区打印店", False),
]


# --- building the data ------------------------------------------------------------------------------------

def month_add(first, n):
    years, index = divmod(first.month - 1 + n, 12)
    return datetime.date(first.year + years, index + 1, 1)


def build(database_url, instance, entries_total, years):
    """Create the compound, its book, entries and periods; return (slug, [period ids], seconds, counts)."""
    os.environ["KIOSK_INSTANCE_PATH"] = str(instance)
    from sqlalchemy import insert, select, text

    from kiosk import create_app
    from kiosk.auth.models import Membership, Role, User
    from kiosk.cli import migrate_to_head
    from kiosk.compounds.models import Compound
    from kiosk.extensions import db
    from kiosk.ledger import chain, service
    from kiosk.timefmt import local_date
    from kiosk.ledger.models import Category, Entry, Period, PeriodStatus, Signoff

    began = time.monotonic()
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(instance)})
    with app.app_context():
        migrate_to_head()
        if db.session.scalar(select(Compound.id).where(Compound.slug == SLUG)):
            raise BenchError(f"the database already has a compound {SLUG!r}; give an empty database")
        compound = Compound(slug=SLUG, name="枫树小区", community="东屯渡社区", district="东屯渡街道")
        db.session.add(compound)
        db.session.flush()
        people = []
        for username, name, role in [("bench-chair", "周建华", Role.chair), ("bench-sup1", "刘桂兰", Role.supervisor),
                                     ("bench-sup2", "张德明", Role.supervisor)]:
            user = User(username=username, display_name=name, password_hash="!", must_change_password=True)
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(user_id=user.id, compound_id=compound.id, role=role))
            people.append(user)
        chair, sup1, sup2 = people
        months = years * 12
        first = month_add(local_date().replace(day=1), -months)
        book = service.open_book(compound, started_on=first)
        book.opening_fen = 1_500_000
        cats = {c.name: c for c in db.session.scalars(select(Category).where(Category.compound_id == compound.id))}
        db.session.commit()
        compound_id, chair_id, sup_ids = compound.id, chair.id, (sup1.id, sup2.id)
        book_id = book.id  # issue 15: every entry and period is in a book; these are the public income's
        opening = book.opening_fen

        rng = random.Random(2018)
        weights = [line[2] for line in LINES]
        table = Entry.__table__
        previous, number, balance = chain.GENESIS, 0, opening
        period_rows, chunk = [], []
        base, extra = divmod(entries_total, months)
        for index in range(months):
            start = month_add(first, index)
            days = calendar.monthrange(start.year, start.month)[1]
            end = start.replace(day=days)
            count = base + (1 if index < extra else 0)
            dates = sorted(start + datetime.timedelta(days=rng.randrange(days)) for _ in range(count))
            income = expense = 0
            for day in dates:
                name, kind, _w, low, high, who, person = rng.choices(LINES, weights)[0]
                fen = rng.randrange(low, high + 1, 50)
                number += 1
                posted_at = datetime.datetime(day.year, day.month, day.day, 12, 0, tzinfo=datetime.timezone.utc) \
                    + datetime.timedelta(seconds=number % 30000)
                row = {"compound_id": compound_id, "book_id": book_id, "number": number, "posted": True, "kind": kind,
                       "occurred_on": day, "category_id": cats[name].id, "amount_fen": fen,
                       "description": f"{day.month} 月{name} 第 {number} 笔", "counterparty": who,
                       "counterparty_is_person": person, "method": "wechat" if person else "bank",
                       "topic_id": None, "reverses_id": None, "recorded_by": chair_id, "posted_by": chair_id,
                       "created_at": posted_at, "posted_at": posted_at, "prev_hash": previous}
                row["hash"] = previous = chain.entry_hash(previous, chain.fields_of(SimpleNamespace(**row)))
                chunk.append(row)
                if kind == "income":
                    income += fen
                else:
                    expense += fen
            if len(chunk) >= 5000 or index == months - 1:
                db.session.execute(insert(table), chunk)
                chunk = []
            closing = balance + income - expense
            submitted = datetime.datetime.combine(end + datetime.timedelta(days=2), datetime.time(12),
                                                  datetime.timezone.utc)
            period_rows.append({
                "compound_id": compound_id, "book_id": book_id, "starts_on": start, "ends_on": end, "status": PeriodStatus.published,
                "round": 1, "opening_fen": balance, "income_fen": income, "expense_fen": expense,
                "closing_fen": closing, "actual_fen": closing, "entry_count": count, "head_number": number,
                "head_hash": previous, "submitted_by": chair_id, "submitted_at": submitted,
                "published_at": submitted + datetime.timedelta(days=3),
                "disclosure_ends_on": end + datetime.timedelta(days=5 + book.disclosure_days), "returned_reason": ""})
            balance = closing
        db.session.execute(insert(Period.__table__), period_rows)
        period_ids = db.session.scalars(select(Period.id).where(Period.compound_id == compound_id)
                                        .order_by(Period.starts_on)).all()
        db.session.execute(insert(Signoff.__table__), [
            {"period_id": pid, "round": 1, "user_id": uid, "signed": True, "reason": "",
             "at": row["submitted_at"] + datetime.timedelta(days=1 + k)}
            for pid, row in zip(period_ids, period_rows) for k, uid in enumerate(sup_ids)])
        db.session.commit()
        if db.engine.dialect.name == "sqlite":
            db.session.execute(text("ANALYZE"))
        else:
            db.session.execute(text("ANALYZE ledger_entry"))
        db.session.commit()
        counts = {"entries": number, "periods": len(period_ids), "months": months, "first": first,
                  "per_month": [row["entry_count"] for row in period_rows]}
        db.session.remove()
        db.engine.dispose()
    return period_ids, time.monotonic() - began, counts


def explain(database_url, instance, period_id):
    """Time the period page's two heavy calls and EXPLAIN (QUERY PLAN) the SQL they send, for the report."""
    from sqlalchemy import event, select, text

    from kiosk import create_app
    from kiosk.compounds.models import Compound
    from kiosk.extensions import db
    from kiosk.ledger import service
    from kiosk.ledger.models import Period

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(instance),
                      "PAGE_CACHE_SECONDS": 0})
    plans = {}
    with app.app_context():
        compound = db.session.scalar(select(Compound).where(Compound.slug == SLUG))
        period = db.session.get(Period, period_id)
        service.book(compound)
        sent = []

        def spy(conn, cursor, statement, parameters, context, executemany):
            sent.append((statement, parameters))

        calls = [("figures", lambda: service.figures(compound, period.starts_on, period.ends_on)),
                 ("entries_in page 1", lambda: service.entries_in(compound, period.starts_on, period.ends_on, 1)),
                 ("entries_in page 20", lambda: service.entries_in(compound, period.starts_on, period.ends_on, 20))]
        for name, call in calls:
            call()  # warm
            sent.clear()
            event.listen(db.engine, "before_cursor_execute", spy)
            started = time.perf_counter()
            try:
                call()
            finally:
                took = (time.perf_counter() - started) * 1000
                event.remove(db.engine, "before_cursor_execute", spy)
            lines = []
            for statement, parameters in sent:
                raw = db.session.connection().connection.driver_connection
                cursor = raw.cursor()
                if db.engine.dialect.name == "sqlite":
                    cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                    plan = " / ".join(str(row[-1]) for row in cursor.fetchall())
                else:
                    cursor.execute("EXPLAIN " + statement, parameters)
                    plan = " / ".join(str(row[0]).strip() for row in cursor.fetchall())
                cursor.close()
                lines.append(f"`{' '.join(statement.split())[:160]}…` → {plan}")
            plans[name] = (took, lines)
        plans["statements"] = page_statements(app, db, event, f"/{SLUG}/ledger/{period_id}")
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        db.engine.dispose()
    return plans


def page_statements(app, db, event, path):
    """SQL statements one GET of the period page sends: the first (the body rendered) and the next (kept)."""
    client = app.test_client()
    counts = []
    for _ in range(2):
        sent = []
        spy = lambda *args: sent.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", spy)
        try:
            status = client.get(path).status_code
        finally:
            event.remove(db.engine, "before_cursor_execute", spy)
        if status != 200:
            raise BenchError(f"GET {path} in-process answered {status}")
        counts.append(len([s for s in sent if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))]))
    return counts


# --- measuring --------------------------------------------------------------------------------------------

@dataclass
class Pair:
    name: str
    path: str
    connections: int
    hello: Run
    page: Run
    hello_p95: float
    page_p95: float


def wrk95(url, connections, duration, script):
    """wrk with --latency and the p95 script; return (Run, p95 ms) with p50/p99 from the script too."""
    # A 30 s timeout (wrk's default is 2 s): a slow page's answers then count in the percentiles instead of
    # dropping out of them as socket timeouts.
    cmd = ["wrk", f"-t{min(WRK_THREADS, connections)}", f"-c{connections}", f"-d{duration}s", "--timeout", "30s",
           "--latency", "-s", str(script), url]
    run = Run(url, connections)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    except subprocess.TimeoutExpired:
        run.failure = "wrk did not finish"
        return run, float("nan")
    parse_wrk(done.stdout, run)
    p95 = float("nan")
    match = re.search(r"LATENCY_US p50=(\d+) p95=(\d+) p99=(\d+)", done.stdout)
    if match:
        run.p50_ms, p95, run.p99_ms = (int(v) / 1000 for v in match.groups())
    problems = []
    if done.returncode != 0:
        problems.append(f"wrk exited {done.returncode}: {done.stderr.strip()[:200]}")
    if run.requests == 0:
        problems.append("no requests completed")
    if run.non_2xx:
        problems.append(f"{run.non_2xx} non-2xx/3xx answers")
    if run.socket_errors:
        problems.append(f"socket errors: {run.socket_errors}")
    run.failure = "; ".join(problems)
    return run, p95


def start_datasette(exe, database, port, log_path):
    """datasette serving the same SQLite file as a peer, with its default settings."""
    return start([exe, "serve", str(database), "--host", HOST, "--port", str(port)], os.environ.copy(), log_path)


def datasette_path(month_start, month_end):
    """datasette's table page of ledger_entry: the month's posted entries of the compound, 100 rows, by number."""
    return (f"/kiosk/ledger_entry?compound_id={{cid}}&posted=1&occurred_on__gte={month_start:%Y-%m-%d}"
            f"&occurred_on__lte={month_end:%Y-%m-%d}&_sort=number&_size=100")


def judged(pair):
    """The target is judged on the middle month's pages; the latest month is shown for how cost grows."""
    return not pair.name.startswith("latest")


def verify_summary(output):
    """`kiosk verify`'s first line, and how many per-period lines followed it (the report stays short)."""
    lines = output.strip().splitlines() or ["(no output)"]
    ok = sum(1 for line in lines[1:] if line.rstrip().endswith("OK"))
    return f"{lines[0].strip()}; then {len(lines) - 1} period lines, {ok} of them OK"


def timed_get(url, timeout=120):
    started = time.monotonic()
    status, body = get(url, timeout=timeout)
    return status, (time.monotonic() - started) * 1000, body


def report(args, pairs, facts, failures):
    lines = [f"# Community Kiosk ledger benchmark, {facts['date']}", "",
             f"{facts['entries']:,} posted entries over {facts['months']} months in one compound "
             f"({min(facts['per_month'])}–{max(facts['per_month'])} a month), {facts['periods']} signed periods; "
             f"the period page of month {facts['middle'] + 1} ({facts['middle_start']}, "
             f"{facts['middle_count']} entries).", "",
             "| page | conns | req/s | p50 | p95 | p99 | hello req/s | hello p95 | ratio to hello | p95 ≤ 100 ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for p in pairs:
        met = "met" if p.page_p95 <= TARGET_P95_MS else "**MISSED**"
        if not judged(p):
            met = f"not judged ({'under' if p.page_p95 <= TARGET_P95_MS else 'over'})"
        ratio = p.page.rps / p.hello.rps if p.hello.rps else float("nan")
        lines.append(f"| {p.name} `{p.path}` | {p.connections} | {p.page.rps:.0f} | {fmt_ms(p.page.p50_ms)} "
                     f"| {fmt_ms(p.page_p95)} | {fmt_ms(p.page.p99_ms)} | {p.hello.rps:.0f} | {fmt_ms(p.hello_p95)} "
                     f"| {ratio:.4f} | {met} |")
    lines += ["",
              f"- Build: {facts['build']:.1f} s ({facts['backend']}; bulk INSERT with chain hashes computed in Python)",
              f"- `kiosk verify {SLUG}` over all entries: {facts['verify_s']:.1f} s, exit {facts['verify_rc']} "
              f"({facts['verify_out']})",
              f"- One GET of the public verify page `/{SLUG}/ledger/verify` (recomputes the whole chain): "
              f"{facts['verify_page_ms']:.0f} ms, status {facts['verify_page_status']}",
              f"- One GET of the ledger index `/{SLUG}/ledger/`: {facts['index_ms']:.0f} ms, status "
              f"{facts['index_status']}",
              f"- Server RSS after the load: {facts['rss']:.1f} MiB",
              f"- Settings: waitress threads={args.threads} for both servers (as bench/run.py), wrk -t{WRK_THREADS}, "
              f"--timeout 30s, {args.duration} s per run, {args.warmup} s warm-up per URL, 127.0.0.1 only; "
              + ("KIOSK_PAGE_CACHE_SECONDS=0: every request renders the page" if args.no_page_cache else
                 "KIOSK_PAGE_CACHE_SECONDS default: a period page is kept 10 s per compound version, so repeated "
                 "loads are cache hits (run with --no-page-cache for the render itself)"),
              f"- Machine: nproc {facts['nproc']}, {platform.system()} {platform.machine()}, "
              f"Python {platform.python_version()}, waitress {package_version('waitress')}, {facts['wrk']}",
              f"- Load average before / after: {facts['load_before']} / {facts['load_after']}",
              f"- Code: {facts['git']}", ""]
    if facts.get("datasette"):
        d = facts["datasette"]
        lines += ["## The same month in datasette (a peer that renders SQLite tables), same run", "",
                  "| server | page | conns | req/s | p50 | p95 | p99 | hello req/s |", "|---|---|---:|---:|---:|---:|---:|---:|"]
        for label, run, p95, hello_rps, path in (("kiosk (this run)", d["ours"], d["ours_p95"], d["hello_rps"], d["ours_path"]),
                                                 (f"datasette {d['version']}", d["run"], d["p95"], d["hello_rps"], d["path"])):
            lines.append(f"| {label} | `{path}` | {run.connections} | {run.rps:.1f} | {fmt_ms(run.p50_ms)} | "
                         f"{fmt_ms(p95)} | {fmt_ms(run.p99_ms)} | {hello_rps:.0f} |")
        lines += ["", f"- Against datasette: kiosk ÷ datasette = **{d['ratio']:.1f}×** (target ≥ {DATASETTE_TARGET:g}×, judged on the "
                  f"uncached page only: {d['verdict']}); datasette shows 100 rows of the month (its default page), "
                  f"ours the month's first 50 with the month's figures, signatures and QR.",
                  f"- `datasette serve kiosk.sqlite3` with its default settings, on the same file, after kiosk's run "
                  f"at the same connection count; {d['errors']} error lines in its log", ""]
    first, kept = facts["plans"].pop("statements")
    lines += [f"- SQL statements per request of the period page (in-process, page cache off): {first} when its body "
              f"is rendered (a new state of the ledger, language or day), {kept} when the rendered body is kept", ""]
    lines += ["## Query plans (the period page's aggregates, one call each, warm)", ""]
    for name, (took, plans) in facts["plans"].items():
        lines.append(f"- `service.{name}`: {took:.1f} ms")
        lines += [f"    - {plan}" for plan in plans]
    if failures:
        lines += ["", "## FAILED RUNS", ""] + [f"- {f}" for f in failures]
    return "\n".join(lines) + "\n"


def compare_datasette(args, instance, base, hello_url, script, counts, middle, pairs, failures):
    """Load datasette's table page of the middle month right after our period page at the largest connection
    count (their hello run is the one before ours); return the facts for the report, with "proc" to stop."""
    from sqlalchemy import create_engine, text
    database = instance / "kiosk.sqlite3"
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        compound_id = conn.execute(text("SELECT id FROM compound WHERE slug = :s"), {"s": SLUG}).scalar()
    engine.dispose()
    start_on = month_add(counts["first"], middle)
    end_on = month_add(counts["first"], middle + 1) - datetime.timedelta(days=1)
    path = datasette_path(start_on, end_on).format(cid=compound_id)
    port = free_port()
    log_path = instance / "datasette.log"
    proc = start_datasette(args.datasette, database, port, log_path)
    url = f"http://{HOST}:{port}"
    wait_ready(url + "/-/versions.json", proc, log_path)
    status, body = get(url + path, timeout=60)
    if status != 200 or b"ledger_entry" not in body:
        raise BenchError(f"datasette answered {status} for {path}")
    _, versions = get(url + "/-/versions.json")
    version = json.loads(versions).get("datasette", {}).get("version", "?")
    connections = max(int(c) for c in args.connections.split(","))
    ours = [p for p in pairs if p.connections == connections and p.name == "period page, first page"][-1]
    if args.warmup:
        wrk95(url + path, connections, args.warmup, script)
    print(f"datasette, the same month @ {connections} conns, {args.duration} s ...", flush=True)
    run, p95 = wrk95(url + path, connections, args.duration, script)
    if not run.ok:
        failures.append(f"datasette @ {connections}: {run.failure}")
    ratio = ours.page.rps / run.rps if run.rps else float("nan")
    if not args.no_page_cache:
        verdict = "not judged: our page came from the page cache in this run"
    else:
        verdict = "met" if ratio >= DATASETTE_TARGET else "**MISSED**"
    errors = sum(1 for line in log_path.read_text(errors="replace").splitlines()
                 if "Traceback" in line or " 500 " in line or "ERROR" in line)
    return {"proc": proc, "version": version, "path": path, "run": run, "p95": p95, "ours": ours.page,
            "ours_p95": ours.page_p95, "ours_path": ours.path, "hello_rps": ours.hello.rps, "ratio": ratio,
            "verdict": verdict, "errors": errors}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per URL (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads for both servers (default 8)")
    parser.add_argument("--connections", default="1,16", help="comma-separated wrk connection counts (1,16)")
    parser.add_argument("--page", type=int, default=20, help="the deep page to load besides the first (20)")
    parser.add_argument("--database-url", help="an EMPTY database to build into (default: a temporary SQLite)")
    parser.add_argument("--keep", action="store_true", help="keep the instance folder and print where it is")
    parser.add_argument("--no-page-cache", action="store_true",
                        help="serve with KIOSK_PAGE_CACHE_SECONDS=0, so every request renders the page")
    parser.add_argument("--datasette", metavar="EXE",
                        help="also load datasette (this executable) on the same SQLite file, showing the middle "
                             "month's 100 rows, right after our period page at the largest connection count")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install -y wrk)")
    if not 1 <= args.years <= 20 or not 12 <= args.entries <= 2_000_000 or not 1 <= args.duration <= 300:
        parser.error("keep --years within 1-20, --entries within 12-2,000,000 and --duration within 1-300")
    conns = [int(c) for c in args.connections.split(",")]

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    instance = Path(tempfile.mkdtemp(prefix="kiosk-ledger-bench-"))
    url = args.database_url or f"sqlite:///{instance / 'kiosk.sqlite3'}"
    env = server_env(instance)
    env["KIOSK_DATABASE_URL"] = url
    if args.no_page_cache:
        env["KIOSK_PAGE_CACHE_SECONDS"] = "0"
    script = instance / "p95.lua"
    script.write_text(P95_LUA)
    kiosk = hello = peer = None
    failures = []
    if args.datasette and args.database_url:
        parser.error("--datasette compares on the SQLite file only (leave out --database-url)")
    try:
        print(f"building {args.entries:,} entries over {args.years} years in {instance} ...", flush=True)
        period_ids, build_s, counts = build(url, instance, args.entries, args.years)
        print(f"  built in {build_s:.1f} s", flush=True)
        middle = len(period_ids) // 2
        period_id = period_ids[middle]
        plans = explain(url, instance, period_id)

        print(f"kiosk verify {SLUG} ...", flush=True)
        started = time.monotonic()
        verified = subprocess.run(kiosk_command() + ["verify", SLUG], cwd=ROOT, env=env, capture_output=True,
                                  text=True, timeout=600)
        verify_s = time.monotonic() - started
        print("  " + verified.stdout.strip(), flush=True)
        if verified.returncode != 0:
            failures.append(f"kiosk verify exited {verified.returncode}: {verified.stdout} {verified.stderr}")

        load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
        kiosk_port, hello_port = free_port(), free_port()
        kiosk_log, hello_log = instance / "kiosk-serve.log", instance / "hello.log"
        base, hello_url = f"http://{HOST}:{kiosk_port}", f"http://{HOST}:{hello_port}/"
        kiosk = start(kiosk_command() + ["serve", "--host", HOST, "--port", str(kiosk_port),
                                         "--threads", str(args.threads)], env, kiosk_log)
        wait_ready(base + "/healthz", kiosk, kiosk_log)
        hello = start(hello_command(hello_port, args.threads), env, hello_log)
        wait_ready(hello_url, hello, hello_log)

        pages = [("period page, first page", f"/{SLUG}/ledger/{period_id}"),
                 (f"period page, page {args.page}", f"/{SLUG}/ledger/{period_id}?page={args.page}"),
                 ("latest month (longest history before it), first page", f"/{SLUG}/ledger/{period_ids[-1]}")]
        for name, path in pages:
            status, _ms, body = timed_get(base + path)
            if status != 200:
                raise BenchError(f"{name}: GET {path} answered {status}, not 200 (is the residents' period "
                                 "page there yet?)")
            if " 笔" not in body.decode("utf-8", "replace"):
                raise BenchError(f"{name}: GET {path} answered 200 but shows no entries")
        index_status, index_ms, _ = timed_get(base + f"/{SLUG}/ledger/")
        verify_status, verify_ms, _ = timed_get(base + f"/{SLUG}/ledger/verify")

        if args.warmup:
            print(f"warming up ({args.warmup} s per URL) ...", flush=True)
            for target in [hello_url] + [base + path for _, path in pages]:
                wrk95(target, max(conns), args.warmup, script)
        pairs = []
        for connections in conns:
            for name, path in pages:
                print(f"hello, then {name} @ {connections} conns, {args.duration} s each ...", flush=True)
                hello_run, hello_p95 = wrk95(hello_url, connections, args.duration, script)
                page_run, page_p95 = wrk95(base + path, connections, args.duration, script)
                for label, run in (("hello", hello_run), (name, page_run)):
                    if not run.ok:
                        failures.append(f"{label} @ {connections}: {run.failure}")
                for server, proc, log in (("kiosk", kiosk, kiosk_log), ("hello", hello, hello_log)):
                    if proc.poll() is not None:
                        raise BenchError(f"the {server} server died during the load")
                pairs.append(Pair(name, path, connections, hello_run, page_run, hello_p95, page_p95))
        rss, _ = memory(kiosk.pid)
        peer_facts = None
        if args.datasette:
            peer_facts = compare_datasette(args, instance, base, hello_url, script, counts, middle, pairs, failures)
            peer = peer_facts.pop("proc")

        now = datetime.datetime.now().astimezone()
        facts = dict(date=now.strftime("%Y-%m-%d %H:%M:%S %z"), build=build_s, backend=url.split(":", 1)[0],
                     verify_s=verify_s, verify_rc=verified.returncode,
                     verify_out=verify_summary(verified.stdout),
                     verify_page_ms=verify_ms, verify_page_status=verify_status, index_ms=index_ms,
                     index_status=index_status, rss=rss or float("nan"), nproc=len(os.sched_getaffinity(0)),
                     wrk=wrk_version(), load_before=load_before,
                     load_after=" ".join(f"{x:.2f}" for x in os.getloadavg()), git=git_revision(), plans=plans,
                     middle=middle, middle_count=counts["per_month"][middle], datasette=peer_facts,
                     middle_start=f"{month_add(counts['first'], middle):%Y-%m}", **counts)
        text = report(args, pairs, facts, failures)
        print()
        print(text)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"ledger-{now:%Y%m%d-%H%M%S}.md").write_text(text, encoding="utf-8")
        (RESULTS / "ledger-latest.md").write_text(text, encoding="utf-8")
        print(f"written to {RESULTS / f'ledger-{now:%Y%m%d-%H%M%S}.md'} and {RESULTS / 'ledger-latest.md'}")
        if failures:
            print("FAILED: some runs did not answer cleanly; their figures are not trustworthy.", file=sys.stderr)
            return 1
        peer_missed = bool(peer_facts) and peer_facts["verdict"].endswith("**MISSED**")
        return 2 if peer_missed or any(judged(p) and not p.page_p95 <= TARGET_P95_MS for p in pairs) else 0
    except BenchError as exc:
        print(f"benchmark aborted: {exc}", file=sys.stderr)
        return 1
    finally:
        stop(kiosk)
        stop(hello)
        stop(peer)
        if args.keep:
            print(f"kept {instance}")
        else:
            shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
