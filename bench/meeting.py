"""A consultation meeting of a 500-household compound, for 3 minutes, measured per request class.

    .venv/bin/python bench/meeting.py [--duration 180] [--quick]               # SQLite, one `kiosk serve`
    .venv/bin/python bench/meeting.py --database-url postgresql+psycopg://...  # PostgreSQL, two processes + nginx

The scenario (issue 16): 200 phones that opened their household cards sit on the open topic page and poll its
results every 5 s, as the page does; all 200 vote within the first minute and 40 of them change their vote
later; 2 lobby screens pulse every 2 s and re-fetch their consultation slide and banner when the pulse names
it; 3 committee phones refresh the admin results every 5 s; 30 passers-by browse notices and the ledger. The load is
locust (headless, bench/meeting_locust.py), which keeps its own statistics per request class. The topic is
named (not secret) and shows live figures: a secret topic's figures move only in released batches
(kiosk/consult/snapshots.py), which would measure the batch interval instead of the server.

Reported: per request class req/s, p50, p95, p99 and errors (target: p95 ≤ 150 ms, 0 errors); the time from
each first vote's answer to the first consultation slide a screen received showing a turnout that includes it
(target p95 ≤ 2.5 s); that the tally after the run equals a fresh recount and the phones' own record of their
last answered votes; the server's RSS; a bare hello-world at 16 connections right before, for scale. The data
is the demo (`kiosk demo --no-serve`, for notices, ledger and committee) with its roll grown to 500 households
and a card for each (bench/seed.py), in a temporary instance folder (SQLite) or a schema of the given
PostgreSQL database (dropped afterwards). With PostgreSQL two `kiosk serve` processes run behind nginx started
with docs/nginx-kiosk.conf as it ships (its addresses and certificate swapped, as tests/test_scale_out.py
does): it is the documented deployment, costs the 2 cores little, and no extra balancer has to be trusted.

Writes bench/results/meeting-<engine>-<timestamp>.md and meeting-<engine>-latest.md. Exit status: 0 clean and
targets met, 1 a run failed (errors, a recount mismatch, a server died), 2 a target was missed.
"""
import argparse
import csv
import datetime
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run as harness  # noqa: E402

LOCUSTFILE = ROOT / "bench" / "meeting_locust.py"
NGINX_SITE = ROOT / "docs" / "nginx-kiosk.conf"
PG_SCHEMA = f"bench_meeting_{os.getpid()}"  # its own per run: two runs at once never share one
APPLICATION_NAME = f"kiosk-bench-meeting-{os.getpid()}"  # the kiosk processes' PostgreSQL connections, for WaitSampler
NGINX_ADDRESS = "127.0.0.2"
HOST_NAME = "kiosk.example.org"
MAX_P95_MS, MAX_SLIDE_S, MAX_RSS_MIB = 150.0, 2.5, harness.MAX_RSS_MIB
TURNOUT = re.compile(r"已投\s*(\d+)\s*/\s*(\d+)\s*户".encode())  # the slide's "voted N / M households"
MIN_JUDGED = 20  # a class with fewer requests (the three log-ins) is shown, not judged


# --- servers ----------------------------------------------------------------------------------------------------

def nginx_config(folder, ports, port, cert, key):
    """docs/nginx-kiosk.conf with the bench's addresses, upstream ports and certificate swapped in."""
    site = NGINX_SITE.read_text(encoding="utf-8")
    swaps = [("server 127.0.0.1:8081 ", f"server 127.0.0.1:{ports[0]} "),
             ("server 127.0.0.1:8082 ", f"server 127.0.0.1:{ports[1]} "),
             ("    listen [::]:80;\n", ""), ("    listen [::]:443 ssl http2;\n", ""),
             ("listen 80;", f"listen {NGINX_ADDRESS}:{harness.free_port()};"),
             ("listen 443 ssl http2;", f"listen {NGINX_ADDRESS}:{port} ssl http2;"),
             ("/etc/letsencrypt/live/kiosk.example.org/fullchain.pem", str(cert)),
             ("/etc/letsencrypt/live/kiosk.example.org/privkey.pem", str(key)),
             ("root /var/www/html;", f"root {folder};")]
    for old, new in swaps:
        if site.count(old) != 1:
            raise harness.BenchError(f"docs/nginx-kiosk.conf no longer has {old!r} once: update bench/meeting.py")
        site = site.replace(old, new)
    (folder / "kiosk.conf").write_text(site)
    (folder / "temp").mkdir()
    main = folder / "nginx.conf"
    main.write_text(f"""daemon off;
master_process on;
worker_processes 1;
{"user root;" if os.geteuid() == 0 else ""}
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    # Where a slow request's time went: waiting for a connection to a process, for its answer, or in all.
    log_format timing '$msec $status $request_time $upstream_connect_time $upstream_header_time '
                      '$upstream_response_time $upstream_addr $connection $connection_requests "$request"';
    access_log {folder}/access.log timing;
    client_body_temp_path {folder}/temp/body;
    proxy_temp_path {folder}/temp/proxy;
    fastcgi_temp_path {folder}/temp/fastcgi;
    uwsgi_temp_path {folder}/temp/uwsgi;
    scgi_temp_path {folder}/temp/scgi;
    include {folder}/kiosk.conf;
}}
""")
    return main


def start_nginx(instance, ports, env):
    """nginx in front of the two processes, TLS with a throwaway certificate; returns (proc, port)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(nginx, os.X_OK) or shutil.which("openssl") is None:
        raise harness.BenchError("nginx and openssl are needed for the two-process run (scripts/test installs them)")
    folder = instance / "nginx"
    folder.mkdir()
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    f"/CN={HOST_NAME}", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    port = harness.free_port()
    conf = nginx_config(folder, ports, port, cert, key)
    proc = harness.start([nginx, "-c", str(conf), "-p", str(folder)], env, folder / "nginx.log")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise harness.BenchError("nginx exited:\n" + harness.log_tail(folder / "error.log"))
        try:
            with socket.create_connection((NGINX_ADDRESS, port), timeout=0.5):
                return proc, port
        except OSError:
            time.sleep(0.1)
    raise harness.BenchError("nginx did not listen:\n" + harness.log_tail(folder / "error.log"))


def seed(env, instance, args):
    """The demo, then the meeting's roll, cards, screens, committee logins and topic (bench/seed.py)."""
    demo = subprocess.run(harness.kiosk_command() + ["demo", "--no-serve"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    if demo.returncode != 0:
        raise harness.BenchError(f"`kiosk demo --no-serve` failed:\n{demo.stdout}\n{demo.stderr}")
    out = instance / "meeting-seed.json"
    done = subprocess.run([sys.executable, "-m", "bench.seed", "meeting", "--households", str(args.households),
                           "--out", str(out)] + (["--secret"] if args.secret else []), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise harness.BenchError(f"seeding the meeting failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(out.read_text(encoding="utf-8"))


def links(base, slug, pattern):
    """The ids linked as /<slug>/<pattern>/<id> from the phone home (notices) or the ledger home (periods)."""
    page = {"n": f"/{slug}/", "ledger": f"/{slug}/ledger/"}[pattern]
    status, body = harness.get(base + page, timeout=30)
    found = sorted({int(m) for m in re.findall(rf'/{slug}/{pattern}/(\d+)"'.encode(), body)})
    if status != 200 or not found:
        raise harness.BenchError(f"no /{pattern}/<id> links on {page} (status {status})")
    return found


class WaitSampler(threading.Thread):
    """Samples pg_stat_activity every second for the kiosk processes' connections (by application_name): whether
    each was running a statement, waiting for a lock or for I/O, or idle in a transaction (waiting for Python)."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url, self.counts, self.halt = url, {}, threading.Event()

    def run(self):
        from sqlalchemy import create_engine, text
        engine = create_engine(self.url)
        query = text("SELECT state, wait_event_type FROM pg_stat_activity WHERE application_name = :name")
        try:
            with engine.connect() as conn:
                while not self.halt.wait(1.0):
                    for state, wait in conn.execute(query, {"name": APPLICATION_NAME}):
                        kind = {"idle": "idle", "idle in transaction": "idle in a transaction (waiting for the "
                                                                        "app)"}.get(state)
                        if kind is None:
                            kind = f"waiting for {wait}" if wait and wait != "Client" else "running a statement"
                        self.counts[kind] = self.counts.get(kind, 0) + 1
                    conn.rollback()
        except Exception as exc:  # noqa: BLE001 - a diagnostic: never let it fail the run
            self.counts[f"sampling stopped: {type(exc).__name__}"] = 1
        finally:
            engine.dispose()

    def stop(self):
        """End the sampling; return the shares of the busy samples (all but idle), as text."""
        self.halt.set()
        self.join(timeout=10)
        busy = {k: v for k, v in self.counts.items() if k != "idle"}
        total = sum(busy.values())
        if not total:
            return "no busy connection seen"
        return "; ".join(f"{k} {v / total:.0%}" for k, v in sorted(busy.items(), key=lambda kv: -kv[1])) + \
            f" (of {total} busy samples; {self.counts.get('idle', 0)} idle)"


# --- figures ----------------------------------------------------------------------------------------------------

def read_stats(path):
    """locust's per-class statistics (…_stats.csv) as [{name, requests, failures, rps, p50, p95, p99, max}]."""
    rows = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            num = lambda key: float(row[key]) if row.get(key) not in (None, "", "N/A") else float("nan")  # noqa
            rows.append({"name": row["Name"], "method": row["Type"], "requests": int(row["Request Count"]),
                         "failures": int(row["Failure Count"]), "rps": num("Requests/s"), "p50": num("50%"),
                         "p95": num("95%"), "p99": num("99%"), "max": num("Max Response Time")})
    return rows


def slide_latency(record):
    """For each first vote answered at t, the count it makes is at least its rank among first votes by answer
    time (every vote answered by t is committed by t); each screen's latency is the time from t to the first
    consultation slide it received after t showing a turnout ≥ that rank. Returns (latencies s, missing)."""
    firsts = sorted(v[0] for v in record["votes"] if v[3])
    by_screen = {}
    for key, at, shown in record["slides"]:
        by_screen.setdefault(key, []).append((at, shown))
    latencies, missing = [], 0
    for rank, answered in enumerate(firsts, start=1):
        for seen in by_screen.values():
            later = next((at for at, shown in seen if at > answered and shown >= rank), None)
            if later is None:
                missing += 1
            else:
                latencies.append(later - answered)
    return latencies, missing


def cpu_seconds(pid):
    """User + system CPU seconds a process has used so far (/proc/<pid>/stat), or NaN."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def machine_busy():
    """(busy, total) jiffies of all cores from /proc/stat, for the share the whole machine was busy."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def percentile(values, pct):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(pct / 100 * (len(values) - 1))))]


def expected_tally(record):
    """The phones' own record: each household's last answered choice."""
    last = {}
    for answered, household, choice, _first in sorted(record["votes"]):
        last[household] = choice
    counts = {}
    for choice in last.values():
        counts[choice] = counts.get(choice, 0) + 1
    return len(last), counts


# --- report -----------------------------------------------------------------------------------------------------

def report(args, facts, rows, failures):
    lines = [f"# Community Kiosk meeting benchmark ({facts['engine']}), {facts['date']}", "",
             f"{facts['households']} households ({facts['electors']} on the topic's roll); for {args.duration} s: "
             f"{args.phones} phones with card cookies on the open topic (results polled every 5 s), all voting between "
             f"{facts['window'][0]:.0f} and {facts['window'][1]:.0f} s after the last of them arrived (at "
             f"{facts['arrived']} s) and {args.changers} changing their vote by {facts['change_by']:.0f} s after it; "
             f"2 lobby screens (pulse every 2 s, consultation slide and banner "
             f"re-fetched when told); 3 committee phones (admin results every 5 s); {args.passers_by} passers-by "
             f"(home, notices, ledger; 3–10 s between taps). " + (
                 "The topic is **secret**: its figures move only in released batches (kiosk/consult/snapshots.py), "
                 "so vote → slide below is the batch delay, and its target does not apply. " if args.secret else
                 "The topic is named and live, so every ballot moves its figures at once (a secret topic's move in "
                 "released batches and would measure the batch interval). ") + f"{facts['setup']}.",
             "", "| request class | requests | req/s | p50 | p95 | p99 | max | errors | target |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['name']} | {r['requests']} | {r['rps']:.1f} | {r['p50']:.0f} ms | {r['p95']:.0f} ms "
                     f"| {r['p99']:.0f} ms | {r['max']:.0f} ms | {r['failures']} | {r['verdict']} |")
    lat = facts["latency"]
    lines += ["",
              f"- **Vote → lobby slide**: {lat['count']} (first vote × screen) pairs; p50 {lat['p50']:.2f} s, "
              f"p95 {lat['p95']:.2f} s, max {lat['max']:.2f} s; {lat['missing']} never shown before the end "
              f"(target p95 ≤ {MAX_SLIDE_S:g} s and none missing: {lat['verdict']}). Measured by the screen clients "
              f"in bench/meeting_locust.py, which behave as static/js/kiosk.js (pulse with `v=`, re-fetch the area "
              f"the HX-Trigger names, read “已投 N / M 户” off the meeting topic's slide).",
              f"- **Tally after the run**: {facts['tally']}",
              f"- Votes answered: {facts['votes']} (first {facts['firsts']}, changes {facts['votes'] - facts['firsts']});"
              f" ballot rows {facts['recount']['ballot_rows']}, households with two current ballots "
              f"{facts['recount']['doubled']}",
              f"- Hello-world (bench/hello.py, waitress, same threads) right before, wrk 16 conns "
              f"{args.hello_seconds} s: {facts['hello'].rps:.0f} req/s, p50 {harness.fmt_ms(facts['hello'].p50_ms)}, "
              f"p99 {harness.fmt_ms(facts['hello'].p99_ms)} (for scale; the meeting's targets are absolute)",
              f"- Server RSS after the run: {facts['rss']} (target ≤ {MAX_RSS_MIB} MiB per process: "
              f"{facts['rss_verdict']})",
              f"- Locust {harness.package_version('locust')} (FastHttpUser), {facts['users']} users spawned at "
              f"{args.spawn_rate}/s in the same 2 cores; statistics reset once all had started, and each user's "
              f"first pages (its arrival) counted apart as `arrival: …`, not judged; locust's percentiles are its own (2 significant "
              f"digits above 100 ms); "
              + (f"**locust warned {facts['saturated']} time(s) that its own CPU was above 90%: latencies include "
                 f"the load tool's queueing**" if facts["saturated"] else "locust did not report CPU saturation"),
              f"- CPU during the meeting ({args.duration} s on {len(os.sched_getaffinity(0))} cores): kiosk "
              f"process(es) {facts['cpu']}; locust {facts['locust_cpu']:.1f} s; the whole machine was busy "
              f"{facts['busy']:.0%} of the time (everyone's work on it included, PostgreSQL's too)",
              *([f"- PostgreSQL, what the kiosk processes' connections were doing (pg_stat_activity sampled every "
                 f"second during the meeting): {facts['waits']}"] if facts["waits"] else []),
              f"- Machine: nproc {len(os.sched_getaffinity(0))}, Python {sys.version.split()[0]}, "
              f"waitress {harness.package_version('waitress')}",
              f"- Load average before / after: {facts['load_before']} / {facts['load_after']}",
              f"- Code: {harness.git_revision()}"]
    if failures:
        lines += ["", "## FAILED", ""] + [f"- {f}" for f in failures]
    return "\n".join(lines) + "\n"


def judge_rows(rows):
    missed = False
    for r in rows:
        if r["name"].startswith("arrival: "):
            r["verdict"] = "not judged (arrivals: every user started within seconds)"
            continue
        if r["requests"] < MIN_JUDGED:
            r["verdict"] = f"not judged ({r['requests']} requests)"
            continue
        ok = r["p95"] <= MAX_P95_MS and r["failures"] == 0
        r["verdict"] = f"p95 ≤ {MAX_P95_MS:g} ms, 0 errors: " + ("met" if ok else "**MISSED**")
        missed |= not ok
    return missed


# --- main -------------------------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=180, help="seconds of meeting (default 180)")
    parser.add_argument("--quick", action="store_true", help="a 60-second meeting, votes in its first 30 s")
    parser.add_argument("--households", type=int, default=500)
    parser.add_argument("--phones", type=int, default=200)
    parser.add_argument("--changers", type=int, default=40)
    parser.add_argument("--passers-by", type=int, default=30)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads per process (kiosk serve's 8)")
    parser.add_argument("--spawn-rate", type=int, default=100, help="users started per second (100)")
    parser.add_argument("--hello-seconds", type=int, default=5)
    parser.add_argument("--database-url", help="PostgreSQL: two processes behind nginx, in a schema "
                                               f"{PG_SCHEMA!r} of this database, dropped afterwards")
    parser.add_argument("--no-nginx", action="store_true",
                        help="with --database-url: users talk to the two processes directly, in turn (to tell "
                             "nginx's and TLS's share from the application's)")
    parser.add_argument("--keep-logs", metavar="FOLDER",
                        help="copy the processes' and nginx's logs (with nginx's access log: upstream connect, "
                             "header and response times per request) to FOLDER before the instance is removed")
    parser.add_argument("--secret", action="store_true",
                        help="a secret topic instead: its figures move in released batches (snapshots.py), so "
                             "vote → slide then measures the batch delay, not the server")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = 60
    if not 30 <= args.duration <= 900 or not 1 <= args.phones <= args.households:
        parser.error("keep --duration within 30-900 and --phones within 1-households")
    if args.database_url and not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a postgresql:// URL")
    locust = Path(sys.executable).parent / "locust"
    if not locust.exists():
        parser.error("locust is not installed: pip install -e '.[bench]'")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.no_nginx and not args.database_url:
        parser.error("--no-nginx goes with --database-url (SQLite runs one process, never behind nginx)")
    engine = ("PostgreSQL, two processes" + ("" if args.no_nginx else " behind nginx")) if args.database_url \
        else "SQLite, one process"
    if args.secret:
        engine += ", secret topic"
    instance = Path(tempfile.mkdtemp(prefix="kiosk-meeting-"))
    env = harness.server_env(instance)
    env["KIOSK_SECRET_KEY"] = secrets.token_urlsafe(48)
    if args.database_url:
        from bench.votes import pg_schema_url
        from sqlalchemy import make_url
        env["KIOSK_DATABASE_URL"] = make_url(pg_schema_url(args.database_url, PG_SCHEMA)).update_query_dict(
            {"application_name": APPLICATION_NAME}).render_as_string(hide_password=False)
        env["KIOSK_TRUSTED_PROXIES"] = "1"
        env["KIOSK_UPLOAD_DIR"] = str(instance / "uploads")
    procs, failures = [], []
    window = (5.0, 35.0) if args.quick else (5.0, 65.0)
    change_by = min(args.duration - 10.0, window[1] + 60.0)
    try:
        print(f"loading the demo and the meeting into {instance} ...", flush=True)
        seeded = seed(env, instance, args)
        ports = [harness.free_port() for _ in range(2 if args.database_url else 1)]
        logs = [instance / f"kiosk-{port}.log" for port in ports]
        for port, log in zip(ports, logs):
            proc = harness.start(harness.kiosk_command() + ["serve", "--host", harness.HOST, "--port", str(port),
                                                            "--threads", str(args.threads)], env, log)
            procs.append(proc)
            harness.wait_ready(f"http://{harness.HOST}:{port}/healthz", proc, log)
        kiosks = list(procs)
        direct = f"http://{harness.HOST}:{ports[0]}"
        hosts = None
        if args.database_url and args.no_nginx:
            hosts = [f"http://{harness.HOST}:{port}" for port in ports]
            host, header, origin = hosts[0], None, hosts[0]
            setup = (f"Two `kiosk serve` processes (threads={args.threads}) on one PostgreSQL schema, no proxy: "
                     f"users take the processes in turn over plain HTTP (a diagnostic, not a deployment)")
        elif args.database_url:
            nginx, nginx_port = start_nginx(instance, ports, env)
            procs.append(nginx)
            host, header, origin = f"https://{NGINX_ADDRESS}:{nginx_port}", HOST_NAME, f"https://{HOST_NAME}"
            setup = (f"Two `kiosk serve` processes (threads={args.threads}) on one PostgreSQL schema behind nginx "
                     f"(docs/nginx-kiosk.conf, TLS, keepalive to the upstreams); locust speaks HTTPS to nginx")
        else:
            host, header, origin = direct, None, direct
            setup = f"One `kiosk serve` process (threads={args.threads}) on the default SQLite file"
        hello_port = harness.free_port()
        hello = harness.start(harness.hello_command(hello_port, args.threads), env, instance / "hello.log")
        procs.append(hello)
        harness.wait_ready(f"http://{harness.HOST}:{hello_port}/", hello, instance / "hello.log")

        slug = seeded["slug"]
        phones = [c for c in seeded["cards"] if c["elector"]][:args.phones]
        config = {"slug": slug, "topic_id": seeded["topic_id"], "cookie": seeded["cookie"], "phones": phones,
                  "screens": seeded["screens"][:2], "committee": seeded["committee"][:3],
                  "passers_by": args.passers_by, "notices": links(direct, slug, "n"),
                  "periods": links(direct, slug, "ledger"), "voters": len(phones), "changers": args.changers,
                  "vote_window": window, "change_by": change_by, "host_header": header, "origin": origin,
                  "out": str(instance / "meeting-record.json"), "seed": 16, "hosts": hosts}
        (instance / "meeting-config.json").write_text(json.dumps(config), encoding="utf-8")
        users = len(phones) + len(config["screens"]) + len(config["committee"]) + args.passers_by

        load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"hello @ 16 conns, {args.hello_seconds} s ...", flush=True)
        hello_run = harness.wrk(f"http://{harness.HOST}:{hello_port}/", 16, args.hello_seconds)
        harness.stop(hello)
        print(f"the meeting: {users} users for {args.duration} s ...", flush=True)
        prefix = instance / "locust"
        cpu_before = [cpu_seconds(p.pid) for p in kiosks]
        busy_before, children_before = machine_busy(), resource.getrusage(resource.RUSAGE_CHILDREN)
        locust_env = {**os.environ, "MEETING_CONFIG": str(instance / "meeting-config.json"),
                      "PYTHONPATH": str(ROOT)}
        sampler = WaitSampler(args.database_url) if args.database_url else None
        if sampler:
            sampler.start()
        done = subprocess.run([str(locust), "-f", str(LOCUSTFILE), "--headless", "-u", str(users), "-r",
                               str(args.spawn_rate), "-t", f"{args.duration}s", "--host", host, "--csv", str(prefix),
                               "--only-summary", "--reset-stats", "--stop-timeout", "10", "--loglevel", "WARNING"],
                              cwd=ROOT, env=locust_env, capture_output=True, text=True, timeout=args.duration + 300)
        children_after, busy_after = resource.getrusage(resource.RUSAGE_CHILDREN), machine_busy()
        waits = sampler.stop() if sampler else ""
        cpu = [cpu_seconds(p.pid) - before for p, before in zip(kiosks, cpu_before)]
        locust_cpu = (children_after.ru_utime + children_after.ru_stime
                      - children_before.ru_utime - children_before.ru_stime)
        busy = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
        (instance / "locust.log").write_text(done.stdout + done.stderr, encoding="utf-8")
        # locust says so when its own process runs out of CPU: then every latency includes the load tool's.
        saturated = sum(1 for line in (done.stdout + done.stderr).splitlines() if "CPU usage" in line)
        if not Path(f"{prefix}_stats.csv").exists() or not Path(config["out"]).exists():
            raise harness.BenchError(f"locust exited {done.returncode} without its statistics:\n"
                                     + (done.stdout + done.stderr)[-3000:])
        rss = [harness.memory(p.pid)[0] or float("nan") for p in kiosks]
        for proc, log in zip(kiosks, logs):
            if proc.poll() is not None:
                raise harness.BenchError("a kiosk process died during the meeting:\n" + harness.log_tail(log))
        load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())

        stats = [r for r in read_stats(f"{prefix}_stats.csv") if r["name"] != "Aggregated"]
        stats.sort(key=lambda r: r["name"])
        missed = judge_rows(stats)
        errors = sum(r["failures"] for r in stats)
        if errors:
            failures.append(f"{errors} requests failed (see the errors column)")
        record = json.loads(Path(config["out"]).read_text(encoding="utf-8"))
        latencies, missing = slide_latency(record)
        lat = {"count": len(latencies), "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
               "max": max(latencies) if latencies else float("nan"), "missing": missing}
        lat_ok = latencies != [] and lat["p95"] <= MAX_SLIDE_S and missing == 0
        lat["verdict"] = "met" if lat_ok else "**MISSED**"
        if args.secret:
            lat["verdict"] = "not judged: a secret topic's batch delay"
        else:
            missed |= not lat_ok

        out = instance / "recount.json"
        recount = subprocess.run([sys.executable, "-m", "bench.seed", "recount", "--topic", str(seeded["topic_id"]),
                                  "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        if recount.returncode != 0:
            raise harness.BenchError(f"the recount failed:\n{recount.stderr[-2000:]}")
        fresh = json.loads(out.read_text(encoding="utf-8"))
        voted, counts = expected_tally(record)
        shown_status, shown_body = harness.get(f"{direct}/{slug}/screen/{config['screens'][0]['key']}", timeout=30)
        mark = shown_body.find(f'data-slide-id="consult-{seeded["topic_id"]}"'.encode())
        shown = TURNOUT.search(shown_body, max(mark, 0))
        shown_count = int(shown.group(1)) if shown else None
        fresh_counts = dict(sorted((k, v) for k, v in fresh["options"].items() if v))
        counts = dict(sorted(counts.items()))
        # A secret topic's slide shows its last released batch, not the running count: not compared then.
        agree = (fresh["part_households"] == voted and (args.secret or shown_count == voted)
                 and fresh_counts == counts and not fresh["doubled"])
        tally = (f"fresh recount {fresh['part_households']} of {fresh['total_households']} households voted, "
                 f"{fresh_counts}; the phones' record of their last answered votes {voted}, {counts}; the lobby "
                 f"slide after the run shows {shown_count}" + (" (the last released batch)" if args.secret else "")
                 + "; all equal and no doubled ballot: "
                 + ("met" if agree else "**MISSED**"))
        if not agree:
            failures.append("the tally after the run does not equal the fresh recount and the phones' record")
        for log in logs:
            text = log.read_text(errors="replace")
            for word in ("locked", "Traceback", "Exception"):
                if word in text:
                    failures.append(f"{log.name} mentions {word!r}")
        if record.get("arrived") is None:
            failures.append("not every phone had its topic page: the vote window never opened")
        rss_ok = all(r <= MAX_RSS_MIB for r in rss)
        missed |= not rss_ok
        now = datetime.datetime.now().astimezone()
        facts = {"engine": engine, "date": now.strftime("%Y-%m-%d %H:%M:%S %z"), "households": seeded["households"],
                 "electors": seeded["electors"], "window": window, "change_by": change_by, "setup": setup,
                 "arrived": "never" if record.get("arrived") is None else f"{record['arrived']:.1f}",
                 "latency": lat, "tally": tally, "recount": fresh, "votes": len(record["votes"]),
                 "firsts": sum(1 for v in record["votes"] if v[3]), "hello": hello_run,
                 "rss": ", ".join(f"{r:.1f} MiB" for r in rss), "rss_verdict": "met" if rss_ok else "**MISSED**",
                 "waits": waits, "cpu": ", ".join(f"{c:.1f} s" for c in cpu), "locust_cpu": locust_cpu, "busy": busy,
                 "users": users, "load_before": load_before, "load_after": load_after, "saturated": saturated}
        text = report(args, facts, stats, failures)
        print()
        print(text)
        name = ("pg" + ("-direct" if args.no_nginx else "")) if args.database_url else "sqlite"
        name += "-secret" if args.secret else ""
        harness.RESULTS.mkdir(parents=True, exist_ok=True)
        (harness.RESULTS / f"meeting-{name}-{now:%Y%m%d-%H%M%S}.md").write_text(text, encoding="utf-8")
        (harness.RESULTS / f"meeting-{name}-latest.md").write_text(text, encoding="utf-8")
        print(f"written to {harness.RESULTS / f'meeting-{name}-latest.md'}")
        if failures:
            return 1
        return 2 if missed else 0
    except harness.BenchError as exc:
        print(f"benchmark aborted: {exc}", file=sys.stderr)
        return 1
    finally:
        for proc in reversed(procs):
            harness.stop(proc)
        if args.keep_logs:
            kept = Path(args.keep_logs)
            kept.mkdir(parents=True, exist_ok=True)
            for log in list(instance.glob("*.log")) + list(instance.glob("nginx/*.log")):
                shutil.copy(log, kept / log.name)
        shutil.rmtree(instance, ignore_errors=True)
        if args.database_url:
            from bench.votes import drop_pg_schema
            drop_pg_schema(args.database_url, PG_SCHEMA)


if __name__ == "__main__":
    sys.exit(main())
