"""waitress as `kiosk serve` runs it: request framings a proxy could read differently refused (smuggling),
and limits so one misbehaving client cannot starve the lobby screens.

Smuggling: waitress 3.0 lets Transfer-Encoding override Content-Length and then keeps the connection open,
reads `Transfer-Encoding: chunked, chunked` (or the header twice) as one chunked body, and frames an
HTTP/1.0 request that says chunked by its Content-Length. A front end (nginx, a CDN) that frames such a
request the other way would pass a second, hidden request through on the same connection. RFC 9112 §6.1
and §6.3 allow refusing them; we do: 400, and waitress closes the connection after an error.

Slow clients: waitress reads requests in one event loop and hands only complete ones to its threads, so a
half-sent request costs a connection, not a thread; but by default it stops accepting at 100 connections
and forgets an idle one only after 120 s, so 100 half-sent requests kept every screen's pulse waiting for
minutes. `server_options` raises the connection limit (and the open-files limit it needs), closes idle
connections after IDLE_SECONDS and requests whose headers take longer than HEADER_SECONDS (even if a byte
trickles in now and then), and, unless a trusted proxy is in front, lets one address hold only a share of
the connections.
"""
import logging
import select
import time
from collections import deque

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError, get_header_lines
from waitress.rfc7230 import HEADER_FIELD_RE
from waitress.server import create_server
from waitress.task import ThreadedTaskDispatcher

CONNECTION_LIMIT = 1000  # open connections in all (waitress's default is 100)
PER_ADDRESS_SHARE = 2  # without a proxy in front, one address may hold half of them
HEADER_SECONDS = 15  # from a request's first byte to the end of its headers
IDLE_SECONDS = 30  # a connection with nothing to do (a phone's keep-alive) is closed after this
CLEANUP_SECONDS = 5  # how often idle connections are looked for
BACKLOG = 2048  # connections the kernel queues while waitress is busy (capped by net.core.somaxconn)
MAX_HEADER_BYTES = 64 * 1024  # all request headers together (waitress: 256 KB); our cookies are small
FILES_PER_CONNECTION = 2  # a socket, and a temporary file while a large body or response is buffered
SPARE_FILES = 100  # the database, templates, logs, the listening socket
MALLOC_ARENAS = 2  # glibc malloc arenas shared by the serving threads (see limit_malloc_arenas)
M_ARENA_MAX = -8  # mallopt's parameter number for it, from glibc's malloc.h
SWITCH_SECONDS = 0.0005  # how long a thread may keep the GIL while another waits (Python's default: 0.005)
PR_SET_PDEATHSIG = 1  # prctl's option number for "signal me when my parent dies", from linux/prctl.h
QUEUE_LOG_SECONDS = 60  # at most one "Task queue depth" warning this often (waitress logs one per request)
CHEAP_JUMP_SECONDS = 0.5  # a cheap request no longer goes ahead of one that has already waited this long
WAITRESS_THREADS = 4  # waitress's own default, when the caller gives none
PRIVATE_COOKIES = (b"kiosk_session=", b"kiosk_household=")  # config's SESSION_COOKIE_NAME; households.cards.COOKIE

log = logging.getLogger("kiosk")


class StrictRequestParser(HTTPRequestParser):
    """waitress's request parser, refusing any Transfer-Encoding but a single `chunked` on HTTP/1.1 alone."""

    def parse_header(self, header_plus):
        super().parse_header(header_plus)
        if b"transfer-encoding" not in header_plus.lower():
            return  # no line can carry the field (nearly every request): skip splitting the headers again
        codings = []
        for line in get_header_lines(header_plus.split(b"\r\n", 1)[1] if b"\r\n" in header_plus else b""):
            field = HEADER_FIELD_RE.match(line)
            if field and field.group("name").lower() == b"transfer-encoding":
                codings += [c.strip(b" \t").lower() for c in field.group("value").split(b",") if c.strip(b" \t")]
        if not codings:
            return
        if "CONTENT_LENGTH" in self.headers:
            raise ParsingError("Content-Length and Transfer-Encoding together")
        if self.version != "1.1" or codings != [b"chunked"]:
            raise ParsingError("Transfer-Encoding other than one chunked on HTTP/1.1")


class StrictChannel(HTTPChannel):
    """A connection that parses with StrictRequestParser, gives a request HEADER_SECONDS to send its headers,
    and is refused at once when its address already holds its share of the connections."""

    parser_class = StrictRequestParser
    request_started = 0.0

    def __init__(self, server, sock, addr, adj, map=None):  # noqa: A002 - waitress's signature
        share = getattr(server, "kiosk_per_address", None)
        if share and addr and sum(1 for ch in (map or {}).values()
                                  if isinstance(ch, HTTPChannel) and ch.addr and ch.addr[0] == addr[0]) >= share:
            sock.close()  # never registered with the loop: the client sees its connection closed
            self.connected = False
            _report_refusal(server, addr[0], share)
            return
        super().__init__(server, sock, addr, adj, map)

    def received(self, data):
        """Note when a new request's first bytes arrive, then parse as waitress does."""
        if self.request is None:
            self.request_started = time.monotonic()
        return super().received(data)

    def overdue(self, now):
        """Whether this connection's request has taken longer than HEADER_SECONDS to send its headers."""
        request = self.request
        return (request is not None and not request.headers_finished
                and now - self.request_started > HEADER_SECONDS)


def _maintenance(server, inherited):
    """The server's periodic sweep (every CLEANUP_SECONDS): waitress's idle-connection cleanup, then closing
    requests whose headers are overdue. Checked here, not in `readable()`, which waitress calls for every open
    connection on every turn of its loop: at 64 busy connections that check cost as much as the pulse."""

    def maintenance(now):
        """Close idle connections (waitress), then mark overdue requests' connections to be closed."""
        inherited(now)
        started = time.monotonic()
        for channel in list(server.active_channels.values()):
            if isinstance(channel, StrictChannel) and channel.overdue(started):
                channel.will_close = True

    return maintenance


class QueueDepthLog:
    """Stands in for waitress's "waitress.queue" logger: at most one "Task queue depth" warning a minute.

    waitress warns on every request that has to wait for a thread. Under a meeting's load that is nearly
    every request: a log line per request filled the log (on the compound's SD card) and, written while
    waitress holds its task queue's lock, cost the pulse a tenth of its time. The first warning is logged at
    once; later ones within QUEUE_LOG_SECONDS are counted and summed up in the next one logged."""

    def __init__(self, logger, seconds):
        self.logger = logger
        self.seconds = seconds
        self.quiet_until = 0.0
        self.skipped = 0
        self.deepest = 0

    def warning(self, message, depth=0, *args):
        """Log the warning, or count it (and its depth) if one was logged less than `seconds` ago."""
        now = time.monotonic()
        if now < self.quiet_until:
            self.skipped += 1
            self.deepest = max(self.deepest, depth)
            return
        if self.skipped:
            self.logger.warning(message + " (and %d times more in the last %d s, up to %d)", depth, *args,
                                self.skipped, self.seconds, self.deepest)
        else:
            self.logger.warning(message, depth, *args)
        self.quiet_until, self.skipped, self.deepest = now + self.seconds, 0, 0

    def __getattr__(self, name):
        """Anything else waitress may ask of its logger comes from the logger itself."""
        return getattr(self.logger, name)


def cheap(channel):
    """Whether the request a connection waits with is one answered without rendering: a screen's pulse, a
    static file, or a page for someone without a session or card cookie (the page cache answers those)."""
    requests = channel.requests
    if not requests:
        return False
    request = requests[0]
    if request.error is not None or getattr(request, "command", None) not in ("GET", "HEAD"):
        return False  # a request waitress could not parse is answered with its error, in turn
    path = request.path or ""
    if path.endswith("/pulse") or path.startswith("/static/"):
        return True
    cookie = request.headers.get("COOKIE", "").encode("latin-1", "replace")
    return not any(name in cookie for name in PRIVATE_COOKIES)


class CheapFirstQueue:
    """waitress's task queue (it calls `append`, `popleft` and `len`), kept as two first-come queues: cheap
    requests (see `cheap`) and the others. A cheap request goes ahead of an expensive one unless the expensive
    one had already waited CHEAP_JUMP_SECONDS when the cheap one arrived.

    That is the order one queue would have if each cheap request were inserted after the cheap ones already
    waiting and after the expensive ones that had waited that long, but before the first expensive one that
    had not. Kept as two queues, adding and taking a request costs the same at any depth: inserting into one
    queue walked every waiting request, under the dispatcher's lock, on waitress's one event-loop thread, once
    per request. At 64 connections that walk cost a bare hello world 7-11% of its throughput and lengthened its
    p99 by 15-100% (three sets of alternating 6-s wrk runs)."""

    __slots__ = ("cheap", "expensive")

    def __init__(self):
        self.cheap, self.expensive = deque(), deque()

    def __len__(self):
        return len(self.cheap) + len(self.expensive)

    def append(self, task):
        """Queue `task`, already marked by CheapFirstDispatcher.add_task (kiosk_cheap, kiosk_queued)."""
        (self.cheap if task.kiosk_cheap else self.expensive).append(task)

    def _expensive_next(self):
        cheap, expensive = self.cheap, self.expensive
        return bool(expensive) and (
            not cheap or expensive[0].kiosk_queued <= cheap[0].kiosk_queued - CHEAP_JUMP_SECONDS)

    def popleft(self):
        """The request to serve next (IndexError when none waits, as from a deque)."""
        return (self.expensive if self._expensive_next() else self.cheap).popleft()

    def __iter__(self):
        """The waiting requests in the order they will be served (a snapshot, for tests and diagnostics)."""
        snapshot = CheapFirstQueue()
        snapshot.cheap, snapshot.expensive = deque(self.cheap), deque(self.expensive)
        while snapshot:
            yield snapshot.popleft()


class CheapFirstDispatcher(ThreadedTaskDispatcher):
    """waitress's task dispatcher, with CheapFirstQueue for its queue: cheap requests go ahead of the others.

    waitress serves requests first come, first served. At a consultation meeting 200 phones open the topic
    page at once; rendered for each household, they fill the threads, and the lobby screens' pulses and the
    passers-by's cached pages (under a millisecond each) waited seconds behind them. A cheap request now goes
    after the cheap ones already waiting and after the expensive ones that had already waited
    CHEAP_JUMP_SECONDS when it arrived, but before the others: a flood of cheap requests delays an expensive one
    by at most that long, never starves it. (Cheap requests once went to the very end of the queue as soon as
    the first expensive request had waited that long, which in the 200 phones' arrival is nearly always: behind
    every topic page queued, those that had only just arrived too.)"""

    def __init__(self):
        super().__init__()
        self.queue = CheapFirstQueue()

    def add_task(self, task):
        """Queue a connection's request, marked cheap or not and with the time it arrived."""
        task.kiosk_cheap, task.kiosk_queued = cheap(task), time.monotonic()
        with self.lock:
            queue = self.queue
            queue.append(task)
            self.queue_cv.notify()
            queue_size = len(queue)
            idle_threads = len(self.threads) - self.stop_count - self.active_count
            if queue_size > idle_threads:
                self.queue_logger.warning("Task queue depth is %d", queue_size - idle_threads)


class EpollLoop:
    """waitress's event loop (`server.asyncore.loop`) on Linux's epoll, with each socket registered once.

    waitress's poll loop (asyncore_use_poll; select() cannot watch a socket numbered above 1023) makes a new
    poll set on every turn and registers every open connection in it again, on the one thread that reads every
    request and sends every answer. Here the set is kept, and a connection's entry changes only when what it
    waits for does (readable, writable). The rest is waitress's loop: the same readable()/writable() questions
    on every turn, the same handlers (wasyncore.readwrite) for what the kernel reports. Measured against
    waitress's poll loop with our server (bench/run.py's hello app, 64 connections, alternating runs), it
    served 5,505 against 5,066 requests/s, p99 31 against 44 ms: as fast as waitress's select() loop."""

    IN = getattr(select, "EPOLLIN", 0) | getattr(select, "EPOLLPRI", 0)
    OUT = getattr(select, "EPOLLOUT", 0)

    @staticmethod
    def available():
        """Whether this platform has epoll (Linux)."""
        return hasattr(select, "epoll")

    def loop(self, timeout=30.0, use_poll=False, map=None, count=None):  # noqa: A002 - waitress's signature
        """Serve the sockets in `map` until it is empty (or for `count` turns), waiting at most `timeout` s."""
        with select.epoll() as epoll:
            watched = {}  # fd -> (the object in the map, the events it is registered for)
            while map and (count is None or count > 0):
                self.turn(epoll, watched, map, timeout)
                if count is not None:
                    count -= 1

    def turn(self, epoll, watched, map, timeout):  # noqa: A002 - waitress's name
        """One turn: bring the registrations up to date with what each object waits for, wait, handle."""
        wanted, lost = 0, []
        for fd, obj in list(map.items()):
            events = self.IN if obj.readable() else 0
            if obj.writable() and not obj.accepting:
                events |= self.OUT
            seen = watched.get(fd)
            ours = seen is not None and seen[0] is obj
            if ours and seen[1] == events:
                wanted += bool(events)
                continue
            if seen is not None and (not ours or not events):  # closed and its number reused, or waits for nothing
                del watched[fd]
                _forget(epoll, fd)
            if not events:
                continue
            try:
                if ours:
                    epoll.modify(fd, events)
                else:
                    epoll.register(fd, events)
            except OSError:  # its socket was closed while it stayed in the map: poll would say POLLNVAL
                watched.pop(fd, None)
                _forget(epoll, fd)
                lost.append(obj)
                continue
            watched[fd] = (obj, events)
            wanted += 1
        if len(watched) > wanted:  # some were closed or left the map since the last turn
            for fd in [fd for fd, (obj, _) in watched.items() if map.get(fd) is not obj]:
                del watched[fd]
                _forget(epoll, fd)
        for obj in lost:
            wasyncore.readwrite(obj, select.POLLNVAL)
        try:
            ready = epoll.poll(timeout)
        except InterruptedError:  # pragma: no cover - Python retries EINTR itself since 3.5
            return
        for fd, events in ready:
            obj = map.get(fd)
            if obj is not None:
                wasyncore.readwrite(obj, events)


def _forget(epoll, fd):
    """Unregister fd; a closed socket has already left the epoll set (the kernel removes it), which is fine."""
    try:
        epoll.unregister(fd)
    except (OSError, ValueError):
        pass


def _report_refusal(server, address, share):
    """Log a client refused for holding its share of connections, at most once a minute per address."""
    reported = server.__dict__.setdefault("kiosk_refusals_reported", {})
    now = time.monotonic()
    if now - reported.get(address, -60.0) >= 60:
        reported[address] = now
        log.warning("%s already holds %d connections: refusing more from it", address, share)


def open_files_limit(wanted):
    """Raise this process's open-files limit towards `wanted` (within the hard limit); return the limit."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft if soft != resource.RLIM_INFINITY else wanted


def limit_malloc_arenas(arenas=MALLOC_ARENAS):
    """Ask glibc to share `arenas` malloc arenas among all threads; return whether it agreed.

    glibc gives each thread that meets contention its own arena (up to 8 per core) and keeps what each one
    freed for that arena: after a burst of rendering on waitress's threads every arena holds its own free
    pages, and the process stays 5–15 MB above what it uses (bench/run.py's RSS after the load). Python's small
    objects live in its own pools either way; only larger buffers (rendered pages, gzip output) go through
    malloc, and they are few, so two arenas cost no measurable throughput. Called before waitress starts its
    threads; elsewhere (musl, macOS) nothing happens. MALLOC_ARENA_MAX in the environment still wins."""
    import os

    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # not glibc
        return False


def shorten_switch_interval(seconds=SWITCH_SECONDS):
    """Let a thread that waits for the GIL have it after `seconds` instead of Python's 5 ms.

    A vote hands the GIL over a dozen times (each SQLite statement, the socket, zlib), and a thread coming back
    from one of them waited up to 5 ms for a thread that was rendering. Measured with bench/votes.py on SQLite
    (50 connections, 8 threads, alternating runs): 356–437 votes/s at 5 ms, 491–564/s at 0.1–0.5 ms, with p99
    from about 200 ms down to about 110 ms; the hello baseline, served with the same setting, did not move
    beyond its noise, nor did cached pages (their p99 fell). The price is paid by rendering under contention:
    the uncached 100,000-entry ledger period page at 16 connections served 378–413/s against 523/s at 5 ms
    (p95 about 53 ms either way; at one connection no change). 2 ms sat between (votes 447–495/s, that page
    467/s). Votes are a resident waiting at a meeting; the uncached page is what the page cache spares."""
    import sys

    sys.setswitchinterval(seconds)


def freeze_startup_heap():
    """Collect once, then move every object alive now (modules, the URL map, SQLAlchemy's metadata, the
    translations: ~150,000 objects that live as long as the process) out of the collector's sight.

    A full collection walked all of them: 85 ms with the GIL held, every waitress thread stopped, a few times a
    minute under load; that was the p99 of pages that take 1 ms. Objects made later are collected as before."""
    import gc

    gc.collect()
    gc.freeze()


def server_options(trusting_proxies, processes=1):
    """waitress settings for the slow-client limits (see the module docstring), and the per-address share.

    With several processes on one socket each takes its part of CONNECTION_LIMIT, so the limits hold for
    the server as a whole (an address's share is a share of each process's part)."""
    own = max(1, CONNECTION_LIMIT // processes)
    files = open_files_limit(own * FILES_PER_CONNECTION + SPARE_FILES)
    limit = max(32, min(own, (files - SPARE_FILES) // FILES_PER_CONNECTION))
    if limit < own:
        log.warning("only %d open files allowed: serving at most %d connections (raise LimitNOFILE)", files, limit)
    options = {"connection_limit": limit, "channel_timeout": IDLE_SECONDS, "cleanup_interval": CLEANUP_SECONDS,
               "backlog": BACKLOG, "max_request_header_size": MAX_HEADER_BYTES,
               "asyncore_use_poll": True}  # select() cannot watch a socket numbered above 1023
    per_address = None if trusting_proxies else max(16, limit // PER_ADDRESS_SHARE)
    return options, per_address


def make_server(app, host, port, per_address=None, sock=None, **options):
    """A waitress server (not yet running) with StrictChannel (strict framing, header deadline, address share),
    CheapFirstDispatcher and, on Linux, EpollLoop. waitress builds its own dispatcher unless one is passed in
    (its parameter for that is named a test shim; it is the only way to choose the queue's order)."""
    dispatcher = CheapFirstDispatcher()
    dispatcher.set_thread_count(options.get("threads", WAITRESS_THREADS))
    try:
        where = {"sockets": [sock]} if sock is not None else {"host": host, "port": port}
        server = create_server(app, _dispatcher=dispatcher, **where, **options)
    except BaseException:
        dispatcher.shutdown()  # its threads are already running
        raise
    server.channel_class = StrictChannel
    if EpollLoop.available():
        server.asyncore = EpollLoop()  # waitress's own event loop elsewhere (its attribute for this is a test shim)
    server.maintenance = _maintenance(server, server.maintenance)
    dispatcher.queue_logger = QueueDepthLog(dispatcher.queue_logger, QUEUE_LOG_SECONDS)
    server.kiosk_per_address = per_address
    return server


def bind(host, port):
    """A listening TCP socket on host:port, to be shared by forked serving processes."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def can_fork():
    """Whether this platform can serve with forked processes (POSIX)."""
    import os

    return hasattr(os, "fork")


def run_processes(count, serve, before_fork=None):
    """Fork `count` processes that each call serve() (which must not return while serving); supervise them.

    The parent serves nothing: it holds no database connection and no thread, so each fork starts from the
    same clean state. A process that dies is replaced (after a second's pause, so one that cannot start does
    not spin). SIGTERM or SIGINT to the parent stops every process, then the parent; a child that exits with
    the parent gone (the parent killed outright) is not left serving: each child asks the kernel for SIGTERM
    when its parent dies (Linux)."""
    import os
    import signal

    children = {}
    stopping = []

    def spawn(slot):
        if before_fork:
            before_fork()
        pid = os.fork()
        if pid == 0:  # the child
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                _die_with_parent()
                serve()
            except KeyboardInterrupt:
                pass
            except BaseException:  # noqa: BLE001 - logged; the parent starts another
                log.exception("serving process %d failed", slot)
                code = 1
            finally:
                os._exit(code)
        children[pid] = slot
        return pid

    def stop(signum, _frame):
        stopping.append(signum)
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for slot in range(count):
            spawn(slot)
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for clarity
                continue
            slot = children.pop(pid, None)
            if slot is None or stopping:
                continue
            log.warning("serving process %d (pid %d) ended with status %d: starting another", slot, pid,
                        os.waitstatus_to_exitcode(status))
            time.sleep(1)
            if not stopping:
                spawn(slot)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for pid in list(children):  # the parent is leaving for another reason: take the children along
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def _die_with_parent():
    """Ask Linux to send this process SIGTERM when its parent dies (elsewhere: nothing)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    import os

    if os.getppid() == 1:  # the parent died before the request was made
        os._exit(0)
