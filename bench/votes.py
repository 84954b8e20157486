"""Votes per second through HTTP next to a bare WSGI "hello world", and the time of a 5,000-household recount.

    .venv/bin/python bench/votes.py [--duration 10] [--connections 50] [--threads 8] [--processes 1]
                                    [--rounds 1] [--households 2000] [--runs 50] [--database-url URL] [--only votes|tally]

1. Votes: loads a compound of --households households with cards and an open yes/no topic that allows
   changes into a temporary instance folder, starts `kiosk serve` and bench/hello.py under the same waitress
   settings (bench/run.py's helpers), then runs wrk against hello and straight after a wrk Lua script
   (bench/votes.lua) that POSTs /<slug>/topics/<id>/vote, each request a different household's ballot (its
   card cookie, a session cookie and that session's CSRF token, made beforehand). Reports votes/s as a ratio
   to hello/s at the same connection count. A run is clean when every answer is the 303 of a vote and the
   database holds one ballot per answered vote (refusals also answer 303, so the database is the judge)
   and no household has two current ballots.
2. Tally: a 5,000-household topic (buyers with several units, developer-held units, 4,400 voters of whom
   600 changed their vote) in the database; times service.compute() (two queries and tally_voted()) with a
   fresh session each run: median and p95 ms against the 50 ms budget. On SQLite, and on PostgreSQL when
   --database-url (or KIOSK_TEST_DATABASE_URL) is given; PostgreSQL work happens in a schema of its own,
   dropped afterwards. With --database-url the vote run uses PostgreSQL as well.

Writes bench/results/votes-<timestamp>.md and bench/results/votes-latest.md. Exit status: 0 clean and
targets met, 1 a run failed, 2 a target was missed.
"""
import argparse
import datetime
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run as harness

LUA = ROOT / "bench" / "votes.lua"
SLUG = "votebench"
TALLY_HOUSEHOLDS, TALLY_VOTERS, TALLY_CHANGED = 5000, 4400, 600
MIN_RATIO, MAX_VOTE_P99_MS, MAX_TALLY_MS = 0.10, 500.0, 50.0
SESSIONS = 64  # phones' sessions the ballots are spread over (each with its own CSRF token)
PG_SCHEMA = "bench_votes"


# --- the database -----------------------------------------------------------------------------------------------

def pg_schema_url(url, schema=PG_SCHEMA):
    """A PostgreSQL URL whose connections work in their own, freshly emptied schema."""
    from sqlalchemy import create_engine, make_url, text
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)


def drop_pg_schema(url, schema=PG_SCHEMA):
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def make_app(instance, database_url):
    """The app as `kiosk serve` would build it from this instance folder (same secret key), on database_url."""
    from kiosk import create_app
    config = {"INSTANCE_PATH": str(instance)}
    if database_url:
        config["SQLALCHEMY_DATABASE_URI"] = database_url
    return create_app(config)


def migrate(app):
    from kiosk.cli import migrate_to_head
    from kiosk.extensions import db
    with app.app_context():
        migrate_to_head()
        db.engine.dispose()


def seed_compound(slug, n, rng):
    """A compound of n households (10 buildings; about 3% buyers of 2-4 units, 4% developer-held) and its
    chair; returns (compound, chair, households)."""
    from sqlalchemy import insert, select

    from kiosk.auth.models import Membership, Role, User
    from kiosk.compounds.models import Compound
    from kiosk.extensions import db
    from kiosk.households.models import Household, Occupancy

    compound = Compound(slug=slug, name="投票压测小区", community="东湖社区", district="湘江街道")
    db.session.add(compound)
    chair = User(username=f"chair-{slug}", display_name="主任", password_hash="!")  # never logs in
    db.session.add(chair)
    db.session.flush()
    db.session.add(Membership(user_id=chair.id, compound_id=compound.id, role=Role.chair))
    rows, i = [], 0
    while i < n:
        roll = rng.random()
        if roll < 0.04:
            group = [("", Occupancy.developer)]
        elif roll < 0.07:
            group = [(f"buyer-{i}", Occupancy.occupied)] * rng.randint(2, 4)
        else:
            group = [("", Occupancy.occupied)]
        for owner_key, occupancy in group:
            if i == n:
                break
            rows.append({"compound_id": compound.id, "building": str(1 + i % 10), "entrance": "",
                         "room": str(101 + i // 10), "area_centi": rng.randint(4000, 18000),
                         "occupancy": occupancy, "owner_key": owner_key})
            i += 1
    db.session.execute(insert(Household), rows)
    db.session.commit()
    households = db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)).all()
    return compound, chair, households


def open_topic(compound, chair, title):
    from kiosk.consult import service
    from kiosk.database import utcnow
    from kiosk.extensions import db
    values = {"title": title, "background": "", "kind": "yesno", "rule": "ordinary", "seats": 1, "secret": True,
              "visibility": "live", "allow_change": True, "opens_at": utcnow() - datetime.timedelta(hours=1),
              "closes_at": utcnow() + datetime.timedelta(days=2)}
    topic = service.save_topic(compound, chair, None, values, [])
    db.session.flush()
    service.publish(compound, chair, topic)
    db.session.commit()
    return topic


# --- votes through HTTP -----------------------------------------------------------------------------------------

def prepare_votes(app, households_n, data_path):
    """Seed the vote compound, its cards and topic; write one line per household for the Lua script:
    its Cookie header and form body. Returns the topic id."""
    from kiosk.extensions import db
    from kiosk.households.cards import COOKIE
    from kiosk.households.service import issue

    rng = random.Random(5)
    with app.app_context():
        compound, chair, households = seed_compound(SLUG, households_n, rng)
        tokens = issue(compound, chair, households)
        db.session.commit()
        topic = open_topic(compound, chair, "压测议题：是否增设充电桩")
        topic_id = topic.id
    client, sessions = app.test_client(), []
    for _ in range(SESSIONS):  # a phone's session: the cookie and the CSRF token its pages carry
        client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
        page = client.get("/admin/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        sessions.append((client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value, token))
    lines = []
    for n, (_, card) in enumerate(tokens):
        cookie, token = sessions[n % SESSIONS]
        choice = ("yes", "no", "abstain")[n % 3]
        lines.append(f"{app.config['SESSION_COOKIE_NAME']}={cookie}; {COOKIE}={card}\t"
                     f"csrf_token={token}&choice={choice}\n")
    rng.shuffle(lines)
    data_path.write_text("".join(lines), encoding="utf-8")
    return topic_id


def wrk_votes(url, data_path, connections, duration):
    """Run wrk with bench/votes.lua; return a harness.Run plus the count of answers that were not 303."""
    # A vote can wait a few seconds in waitress's queue at 50 connections: wrk's default 2 s timeout would
    # count it as an error although the server answers it.
    cmd = ["wrk", f"-t{harness.WRK_THREADS}", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "--latency",
           "-s", str(LUA),
           url, "--", str(data_path), str(harness.WRK_THREADS)]
    run = harness.Run(url, connections)
    try:
        done = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=duration + 60)
    except subprocess.TimeoutExpired:
        run.failure = "wrk did not finish"
        return run, None
    harness.parse_wrk(done.stdout, run)
    match = re.search(r"not 303: (\d+) of (\d+)", done.stdout)
    not_303 = (int(match.group(1)), int(match.group(2))) if match else None
    problems = []
    if done.returncode != 0:
        problems.append(f"wrk exited {done.returncode}: {done.stderr.strip()[:300]}")
    if run.requests == 0 or run.rps == 0:
        problems.append("no requests completed")
    if run.non_2xx:
        problems.append(f"{run.non_2xx} answers ≥ 400")
    if run.socket_errors:
        problems.append(f"socket errors: {run.socket_errors}")
    if not_303 is None:
        problems.append("the Lua script reported nothing")
    elif not_303[0]:
        problems.append(f"{not_303[0]} answers were not 303")
    run.failure = "; ".join(problems)
    return run, not_303


def ballot_state(app, topic_id):
    """(ballots, current ballots, households with two current ballots) on the vote topic."""
    from sqlalchemy import func, select

    from kiosk.consult.models import Ballot
    from kiosk.extensions import db
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.topic_id == topic_id))
        current = db.session.scalar(select(func.count()).select_from(Ballot).where(
            Ballot.topic_id == topic_id, Ballot.current.is_(True)))
        doubled = db.session.scalar(select(func.count()).select_from(
            select(Ballot.household_id).where(Ballot.topic_id == topic_id, Ballot.current.is_(True))
            .group_by(Ballot.household_id).having(func.count() > 1).subquery()))
        db.session.remove()
        db.engine.dispose()
    return total, current, doubled


def bench_votes(args, instance, database_url, failures):
    """Return table rows for the vote runs."""
    env = harness.server_env(instance)
    if database_url:
        env["KIOSK_DATABASE_URL"] = database_url
    if args.fast_vote == "off":
        env["KIOSK_FAST_VOTE"] = "0"  # every ballot through the Flask view (consult/fastvote.py switched off)
    app = make_app(instance, database_url)
    migrate(app)
    data_path = instance / "votes.tsv"
    print(f"seeding {args.households} households with cards and an open topic ...", flush=True)
    topic_id = prepare_votes(app, args.households, data_path)
    kiosk = hello = None
    engine = "PostgreSQL" if database_url else "SQLite"
    try:
        port, hello_port = harness.free_port(), harness.free_port()
        kiosk_log, hello_log = instance / "kiosk-serve.log", instance / "hello.log"
        base, hello_url = f"http://{harness.HOST}:{port}", f"http://{harness.HOST}:{hello_port}/"
        kiosk = harness.start(harness.kiosk_command() + ["serve", "--host", harness.HOST, "--port", str(port),
                                                         "--threads", str(args.threads),
                                                         "--processes", str(args.processes)], env, kiosk_log)
        harness.wait_ready(base + "/healthz", kiosk, kiosk_log)
        hello = harness.start(harness.hello_command(hello_port, args.threads, args.processes), env, hello_log)
        harness.wait_ready(hello_url, hello, hello_log)
        vote_url = f"{base}/{SLUG}/topics/{topic_id}/vote"
        answered = 0
        if args.warmup:
            print(f"warming up ({args.warmup} s each) ...", flush=True)
            harness.wrk(hello_url, args.connections, args.warmup)
            _, counted = wrk_votes(vote_url, data_path, args.connections, args.warmup)
            answered += counted[1] if counted else 0
        pairs = []
        for round_no in range(1, args.rounds + 1):
            print(f"[round {round_no}/{args.rounds}] hello @ {args.connections} conns, {args.duration} s ...",
                  flush=True)
            base_run = harness.wrk(hello_url, args.connections, args.duration)
            if not base_run.ok:
                failures.append(f"hello ({engine}, round {round_no}): {base_run.failure}")
            print(f"[round {round_no}/{args.rounds}] votes ({engine}) @ {args.connections} conns, "
                  f"{args.duration} s ...", flush=True)
            run, counted = wrk_votes(vote_url, data_path, args.connections, args.duration)
            answered += counted[1] if counted else 0
            if not run.ok:
                failures.append(f"votes ({engine}, round {round_no}): {run.failure}")
                print(f"  FAILED: {run.failure}", flush=True)
            for name, proc, log in (("kiosk", kiosk, kiosk_log), ("hello", hello, hello_log)):
                if proc.poll() is not None:
                    raise harness.BenchError(f"the {name} server died during the load:\n" + harness.log_tail(log))
            pairs.append((base_run, run))
        log_text = kiosk_log.read_text(errors="replace")
    finally:
        harness.stop(kiosk)
        harness.stop(hello)
    total, current, doubled = ballot_state(app, topic_id)
    # wrk stops with requests in flight: the server may have recorded up to one ballot per connection more
    # than wrk saw answered, never fewer.
    if not answered <= total <= answered + args.connections * (args.rounds + 1):
        failures.append(f"votes ({engine}): {answered} answered but {total} ballots recorded (lost or refused votes)")
    if doubled:
        failures.append(f"votes ({engine}): {doubled} households with two current ballots")
    for word in ("locked", "Traceback", "Exception"):
        if word in log_text:
            failures.append(f"votes ({engine}): the server log mentions {word!r}")
    ratio = harness.median([a.rps / b.rps if b.rps else float("nan") for b, a in pairs])
    p99 = harness.median([a.p99_ms for _, a in pairs])
    met = ratio >= MIN_RATIO and p99 <= MAX_VOTE_P99_MS
    return [dict(what="votes/s through HTTP (POST …/vote, each a different household)", engine=engine,
                 conns=args.connections, value=f"{harness.median([a.rps for _, a in pairs]):.0f}/s",
                 p50=harness.fmt_ms(harness.median([a.p50_ms for _, a in pairs])),
                 p99=harness.fmt_ms(p99),
                 baseline=f"hello {harness.median([b.rps for b, _ in pairs]):.0f}/s", ratio=f"{ratio:.3f}",
                 target=_judge(met, f"ratio ≥ {MIN_RATIO:.2f}, p99 ≤ {MAX_VOTE_P99_MS:g} ms, 0 errors, 0 doubled"),
                 missed=not met,
                 note=f"{answered} votes answered, {total} ballots recorded, {current} current, "
                      f"{doubled} doubled")]


def _judge(met, target):
    return f"{target}: met" if met else f"{target}: **MISSED**"


# --- tally time -------------------------------------------------------------------------------------------------

def bench_tally(args, instance, database_url, engine):
    """Seed a 5,000-household topic with ballots and time service.compute(); return a table row."""
    from sqlalchemy import insert

    from kiosk.consult import service
    from kiosk.consult.models import Ballot, Channel, Topic
    from kiosk.database import utcnow
    from kiosk.extensions import db

    app = make_app(instance, database_url)
    migrate(app)
    rng = random.Random(278)
    with app.app_context():
        print(f"seeding a {TALLY_HOUSEHOLDS}-household topic on {engine} ...", flush=True)
        compound, chair, households = seed_compound("tallybench", TALLY_HOUSEHOLDS, rng)
        topic = open_topic(compound, chair, "计票压测议题")
        topic_id = topic.id
        voters = rng.sample([h.id for h in households], TALLY_VOTERS)
        changed = set(rng.sample(voters, TALLY_CHANGED))
        now, rows = utcnow(), []
        pick = lambda: [rng.choices(("yes", "no", "abstain"), (70, 20, 10))[0]]
        for hid in voters:  # history first (older ids), then the ballots that count
            if hid in changed:
                rows.append({"topic_id": topic_id, "household_id": hid, "choices": pick(), "channel": Channel.phone,
                             "cast_at": now, "current": False})
        for hid in voters:
            rows.append({"topic_id": topic_id, "household_id": hid, "choices": pick(), "channel": Channel.phone,
                         "cast_at": now, "current": True})
        db.session.execute(insert(Ballot), rows)
        db.session.commit()
        db.session.remove()
        times, result = [], None
        for n in range(args.runs + 3):
            topic = db.session.get(Topic, topic_id)
            topic.options  # noqa: B018 - loaded outside the timing, as the page has the topic already
            began = time.perf_counter()
            result = service.compute(topic)
            elapsed = (time.perf_counter() - began) * 1000
            if n >= 3:  # the first runs warm the statement cache and the connection pool
                times.append(elapsed)
            db.session.remove()
        db.engine.dispose()
    assert result.part_households == TALLY_VOTERS and result.total_households == TALLY_HOUSEHOLDS
    times.sort()
    median, p95 = statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]
    return dict(what=f"service.compute(), {TALLY_HOUSEHOLDS} households, {len(rows)} ballot rows", engine=engine,
                conns="", value=f"median {median:.1f} ms", p50=f"{median:.2f} ms", p99=f"p95 {p95:.2f} ms",
                baseline="", ratio="", target=_judge(p95 <= MAX_TALLY_MS, f"p95 ≤ {MAX_TALLY_MS:g} ms"),
                missed=not p95 <= MAX_TALLY_MS,
                note=f"{args.runs} runs, fresh session each; passed={result.passed}, "
                     f"{result.part_households} voted, {result.total_heads} owners")


# --- report -----------------------------------------------------------------------------------------------------

def report(args, rows, failures, facts):
    lines = [f"# Community Kiosk vote benchmark, {facts['date']}", "",
             "| measure | engine | conns | result | p50 | p99 / p95 | baseline | ratio | target | notes |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        lines.append(f"| {r['what']} | {r['engine']} | {r['conns']} | {r['value']} | {r['p50']} | {r['p99']} "
                     f"| {r['baseline']} | {r['ratio']} | {r['target']} | {r['note']} |")
    lines += ["",
              f"- Settings: waitress threads={args.threads}, processes={args.processes} for both servers, "
              f"wrk -t{harness.WRK_THREADS}, "
              f"{args.duration} s per run, {args.warmup} s warm-up, {args.rounds} round(s), "
              f"{args.households} households on the vote topic (changes allowed), 127.0.0.1 only",
              f"- Machine: nproc {len(os.sched_getaffinity(0))}, Python {sys.version.split()[0]}, "
              f"waitress {harness.package_version('waitress')}",
              f"- Load average before / after: {facts['load_before']} / "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}",
              f"- Code: {harness.git_revision()}"]
    if failures:
        lines += ["", "## FAILED RUNS", ""] + [f"- {f}" for f in failures]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections (default 50)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads for both servers (default 8)")
    parser.add_argument("--processes", type=int, default=1,
                        help="serving processes for both servers, sharing one socket each (default 1)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per URL (default 2)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat hello + votes; report medians")
    parser.add_argument("--households", type=int, default=2000, help="households on the vote topic (2000)")
    parser.add_argument("--runs", type=int, default=50, help="timed compute() runs per engine (default 50)")
    parser.add_argument("--database-url", default=os.environ.get("KIOSK_TEST_DATABASE_URL"),
                        help="a PostgreSQL URL (default: $KIOSK_TEST_DATABASE_URL); work goes into a schema "
                             f"{PG_SCHEMA!r} that is dropped afterwards")
    parser.add_argument("--only", choices=("votes", "tally"), help="run one half only")
    parser.add_argument("--fast-vote", choices=("on", "off"), default="on",
                        help="the phone ballot's fast path below Flask (default on, as served)")
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 300 or not 0 <= args.warmup <= 60 or not 1 <= args.rounds <= 20:
        parser.error("keep --duration within 1-300, --warmup within 0-60 and --rounds within 1-20")
    if args.only != "tally" and shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install -y wrk)")
    if args.database_url and not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a postgresql:// URL (SQLite is always measured)")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows, failures, temp = [], [], []
    try:
        engines = [None] + ([args.database_url] if args.database_url else [])
        for url in engines:
            engine = "PostgreSQL" if url else "SQLite"
            if args.only != "votes":
                instance = Path(tempfile.mkdtemp(prefix="kiosk-bench-tally-"))
                temp.append(instance)
                rows.append(bench_tally(args, instance, pg_schema_url(url) if url else None, engine))
            if args.only != "tally":
                instance = Path(tempfile.mkdtemp(prefix="kiosk-bench-votes-"))
                temp.append(instance)
                rows.extend(bench_votes(args, instance, pg_schema_url(url) if url else None, failures))
        now = datetime.datetime.now().astimezone()
        text = report(args, rows, failures, {"date": now.strftime("%Y-%m-%d %H:%M:%S %z"),
                                             "load_before": load_before})
        print()
        print(text)
        harness.RESULTS.mkdir(parents=True, exist_ok=True)
        (harness.RESULTS / f"votes-{now:%Y%m%d-%H%M%S}.md").write_text(text, encoding="utf-8")
        (harness.RESULTS / "votes-latest.md").write_text(text, encoding="utf-8")
        print(f"written to {harness.RESULTS / f'votes-{now:%Y%m%d-%H%M%S}.md'} and "
              f"{harness.RESULTS / 'votes-latest.md'}")
        if failures:
            print("FAILED: some runs did not answer cleanly; their figures are not trustworthy.", file=sys.stderr)
            return 1
        return 2 if any(r["missed"] for r in rows) else 0
    except harness.BenchError as exc:
        print(f"benchmark aborted: {exc}", file=sys.stderr)
        return 1
    finally:
        for folder in temp:
            shutil.rmtree(folder, ignore_errors=True)
        if args.database_url:
            drop_pg_schema(args.database_url)


if __name__ == "__main__":
    sys.exit(main())
