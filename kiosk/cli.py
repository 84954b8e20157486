"""The `kiosk` command (also `flask --app kiosk ...`): serve, init, demo, user add, backup, restore, verify."""
import os
import socket
import sqlite3
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from . import serving
from .extensions import db
from .storage import create_private_file

MAX_PROCESSES = 4  # `kiosk serve --processes 0`: one serving process per core, up to this many


def main():
    """Entry point of the `kiosk` console script."""
    from . import create_app

    group = FlaskGroup(create_app=create_app, add_default_commands=False, add_version_option=False,
                       load_dotenv=False, help="社区公示屏 Community Kiosk")
    group.main(prog_name="kiosk")


def lan_addresses():
    """Return this machine's non-loopback IPv4 addresses, found without sending any packet."""
    found = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            address = info[4][0]
            if not address.startswith("127."):
                found.add(address)
    except OSError:
        pass
    return sorted(found)


def base_url(host, port):
    """Return the URL people should use: the configured public URL, else the local one."""
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return configured.rstrip("/")
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}"


def migrate_to_head():
    """Create or upgrade the database schema to the latest migration."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)


def migration_heads():
    """The head revisions of the migrations shipped in the package (those no other migration follows).

    Read from the files' `revision` and `down_revision` assignments, as Alembic does, but without importing it:
    `kiosk serve` asks this once at start, and Alembic (with Mako and Pygments) would stay in its memory for
    good, ~11 MiB (tests/test_serving_load.py checks both answers agree)."""
    import ast

    revisions, followed = set(), set()
    for path in (Path(__file__).parent / "migrations" / "versions").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else \
                getattr(node, "target", None) if isinstance(node, ast.AnnAssign) else None
            if not isinstance(target, ast.Name) or target.id not in ("revision", "down_revision"):
                continue
            value = ast.literal_eval(node.value)
            if target.id == "revision":
                revisions.add(value)
            elif value is not None:
                followed.update((value,) if isinstance(value, str) else value)
    return revisions - followed


def schema_is_current():
    """Return whether the database is at the latest migration (its alembic_version rows are the heads)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with db.engine.connect() as conn:
            current = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except SQLAlchemyError:  # no version table: an empty or foreign database
        return False
    return current == migration_heads()


def waitress_options(app, threads, processes=1):
    """The waitress settings `kiosk serve` uses (tests start servers with the same ones).

    waitress would strip every X-Forwarded-* header itself (no `trusted_proxy` is configured there): with
    KIOSK_TRUSTED_PROXIES the app's ProxyFix decides which hops to believe, so waitress must pass them on.
    Without trusted proxies waitress drops them, and ProxyFix is not installed either. The connection
    limits and timeouts are serving.server_options (docs/deploy.md explains them).
    """
    trusting = int(app.config.get("TRUSTED_PROXIES") or 0) > 0
    limits, _ = serving.server_options(trusting, processes)
    options = {"threads": threads, "ident": "kiosk", "clear_untrusted_proxy_headers": not trusting, **limits}
    limit = app.config.get("MAX_CONTENT_LENGTH")
    if limit:
        # waitress buffers a whole body (to disk past 512 KB) before the app sees it, up to 1 GB by default:
        # stop far sooner. Up to twice the limit still reaches the app, for its own calm 413 page.
        options["max_request_body_size"] = 2 * int(limit)
    return options


def make_server(app, host, port, threads, processes=1, sock=None):
    """The waitress server `kiosk serve` runs (not yet running): strict framing, limits against slow clients,
    and (without a trusted proxy in front) a share of the connections per client address. With `sock` it
    accepts on that socket (shared by `processes` processes) instead of binding host:port."""
    _, per_address = serving.server_options(int(app.config.get("TRUSTED_PROXIES") or 0) > 0, processes)
    return serving.make_server(app, host, port, per_address=per_address, sock=sock,
                               **waitress_options(app, threads, processes))


def serving_processes(requested):
    """How many serving processes `kiosk serve` runs: as asked, or (0) one per core, at most MAX_PROCESSES;
    one where processes cannot be forked."""
    if not serving.can_fork():
        return 1
    if requested:
        return requested
    return max(1, min(os.cpu_count() or 1, MAX_PROCESSES))


def serve_app(app, host, port, threads, processes=1):
    """Serve the app with waitress, printing where to open it.

    With more than one process, the socket is bound here and the processes are forked from this one after
    its database connections are closed; each runs its own threads and sweeper (cross-process safe: counts
    and claims live in the database, caches check the database's version)."""
    import logging

    from . import sweeper

    # The command's own session may still hold a transaction (on SQLite a write lock): end it before serving.
    db.session.remove()
    serving.shorten_switch_interval()
    logging.basicConfig()  # as waitress.serve() does: its warnings (queue depth, errors) reach the log
    if processes <= 1:
        serving.limit_malloc_arenas()  # before any thread starts (the sweeper's, waitress's)
        serving.freeze_startup_heap()
        with _listening(host, port):
            server = make_server(app, host, port, threads)
        sweeper.start(app)
        _announce(host, port, f"threads={threads}")
        server.run()
        return
    with _listening(host, port):
        sock = serving.bind(host, port)  # before forking: an address in use stops the command here, once
    serving.freeze_startup_heap()  # the forks share these pages until they write to them

    def close_connections():
        db.session.remove()
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()

    def serve():
        serving.limit_malloc_arenas()
        sweeper.start(app)
        make_server(app, host, port, threads, processes, sock).run()

    _announce(host, port, f"{processes} processes × threads={threads}")
    serving.run_processes(processes, serve, before_fork=close_connections)


@contextmanager
def _listening(host, port):
    """Turn a socket that cannot listen (the port in use, an address not ours) into a one-line error."""
    try:
        yield
    except OSError as error:
        raise click.ClickException(f"Cannot listen on {host}:{port}: {error.strerror or error}.") from None


def _announce(host, port, how):
    click.echo(f"社区公示屏 listening on http://{host}:{port}/  ({how})")
    if host in ("0.0.0.0", "::"):
        for address in lan_addresses():
            click.echo(f"  on the local network: http://{address}:{port}/")
    sys.stdout.flush()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for the LAN).")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--processes", default=1, show_default=True, type=click.IntRange(min=0), envvar="KIOSK_PROCESSES",
              help=f"Serving processes sharing the port (0: one per core, at most {MAX_PROCESSES}).")
@with_appcontext
def serve_command(host, port, threads, processes):
    """Serve the application with waitress."""
    if not schema_is_current():
        raise click.ClickException("The database schema is not current: run `kiosk init` first.")
    serve_app(current_app._get_current_object(), host, port, threads, serving_processes(processes))


@click.command("init")
@with_appcontext
def init_command():
    """Create or upgrade the database (safe to run again)."""
    migrate_to_head()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Load the demo data and print the URLs without serving.")
@with_appcontext
def demo_command(host, port, threads, no_serve):
    """Load a demo compound (idempotent), print where to look and a one-time login, then serve."""
    from .demo import load_demo

    migrate_to_head()
    summary = load_demo()
    url = base_url(host, port)
    click.echo("")
    click.echo("社区公示屏 demo is ready")
    click.echo(f"  Phone home (residents):   {url}/{summary['slug']}/")
    click.echo(f"  An urgent notice:         {url}/{summary['slug']}/n/{summary['urgent_notice_id']}")
    click.echo(f"  Lobby screen (portrait):  {url}/{summary['slug']}/screen/{summary['screen_key']}")
    for name, key in summary.get("other_screens", []):
        click.echo(f"    also {name}: {url}/{summary['slug']}/screen/{key}")
    click.echo(f"  All screens (street office, as {summary['staff']}): {url}/admin/platform/screens/")
    click.echo(f"  A household card ({summary['card_address']}): {url}/h/{summary['card_token']}")
    click.echo("    (a new card each time the demo starts; the previous one stops working)")
    click.echo(f"  Consultations (open the card first, then vote): {url}/{summary['slug']}/topics")
    if summary.get("electorate"):
        lift_id, whose = summary["electorate"]
        click.echo(f"  3栋电梯更新改造 ({whose}, verified cards only; the card above may vote): "
                   f"{url}/{summary['slug']}/topics/{lift_id}")
        click.echo(f"    card delivery and verification (committee): {url}/admin/{summary['slug']}/cards/delivery?building=3")
    click.echo(f"  Ledger (收支公示):        {url}/{summary['slug']}/ledger")
    click.echo(f"  Three books (公共收益 / 专项维修资金 / 工作经费; per building, transfers): "
               f"{url}/{summary['slug']}/ledger/?book=maintenance_fund , committee: "
               f"{url}/admin/{summary['slug']}/ledger/transfers")
    click.echo(f"  Procedure rules (议事规则, 杭州 profile; an extended vote in the topics): {url}/{summary['slug']}/rules")
    if summary.get("late_topic_id"):
        click.echo(f"  Procedure record of a closed vote (表决程序核验单, committee; its resolution is late):"
                   f" {url}/admin/{summary['slug']}/topics/{summary['late_topic_id']}/procedure-record")
    if summary.get("paper_topic_id"):
        topic_url = f"{url}/admin/{summary['slug']}/topics/{summary['paper_topic_id']}"
        click.echo(f"  Lift vote, 3栋 (committee): written proxies {topic_url}/proxies ,"
                   f" numbered paper ballots {topic_url}/paper-ballots (the card above has a proxy to revoke)")
    click.echo(f"  Second compound:          {url}/{summary['other_slug']}/")
    click.echo(f"  Committee admin (phone):  {url}/admin/")
    click.echo(f"    chair login:  {summary['chair']}  one-time password: {summary['chair_password']}")
    if summary.get("supervisor"):
        click.echo(f"    supervisor:   {summary['supervisor']}  one-time password: {summary['supervisor_password']}"
                   "  (signs the month waiting for its second signature)")
    for tip in summary.get("tips", []):  # what areas added to the demo, each with where to try it
        click.echo("  " + tip.format(url=url))
    click.echo(f"  Platform staff:           {url}/admin/platform/")
    click.echo(f"    staff login:  {summary['staff']}  one-time password: {summary['staff_password']}")
    click.echo("  (one-time passwords are reset each time the demo starts; you will be asked to pick a new one)")
    click.echo(f"  Health:                   {url}/healthz")
    click.echo("")
    sys.stdout.flush()
    if not no_serve:
        serve_app(current_app._get_current_object(), host, port, threads)


@click.group("user")
def user_group():
    """Manage accounts."""


@user_group.command("add")
@click.argument("username")
@click.option("--name", "display_name", help="Display name (defaults to the username).")
@click.option("--compound", "slug", help="Compound slug to join.")
@click.option("--role", type=click.Choice(["chair", "vice_chair", "member", "supervisor"]), default="member",
              show_default=True, help="Committee role in the compound (supervisor is refused: see below).")
@click.option("--platform-admin", is_flag=True, help="Give the account platform-wide staff rights.")
@click.option("--password", help="Set this password instead of printing a one-time one.")
@with_appcontext
def user_add(username, display_name, slug, role, platform_admin, password):
    """Add an account; prints a one-time password unless --password is given."""
    from .auth.accounts import AccountRefused, add_member, check_new_account, create_account, new_password
    from .compounds.models import Compound

    username = username.strip().lower()
    display_name = (display_name or username).strip()
    compound = None
    if slug:
        compound = db.session.scalar(select(Compound).where(Compound.slug == slug))
        if compound is None:
            raise click.ClickException(f"No compound {slug!r}.")
    elif not platform_admin:
        raise click.ClickException("Give --compound SLUG or --platform-admin.")
    one_time = password or new_password()
    try:
        if compound is None:
            check_new_account(None, username, display_name)
            create_account(username, display_name, one_time, must_change_password=password is None,
                           platform_admin=True)
        else:
            # Audited like the members page; the entry has no account behind it and says it came from here.
            user = add_member(compound, None, username, display_name, role, one_time,
                              must_change_password=password is None, via="cli")
            user.is_platform_admin = platform_admin
    except AccountRefused as refused:
        db.session.rollback()
        raise click.ClickException(CLI_REFUSALS.get(refused.reason, refused.reason).format(
            username=username, name=refused.detail.get("name", ""))) from None
    db.session.commit()
    click.echo(f"Added {username}." + ("" if password else f" One-time password: {one_time}"))


CLI_REFUSALS = {
    "username_taken": "An account named {username!r} already exists.",
    "name_unreadable": "The display name has no readable characters.",
    "name_taken": "The compound already has a committee account named {name!r} (names that read alike count "
                  "as the same); give a distinguishing name, e.g. with the building.",
    # Whoever creates a supervisor's account holds its first password: that is the street office's to do, in
    # the open (the public roster shows every appointment), never a shell account's.
    "supervisor": "Supervisors are not added from the command line: platform staff appoint them on "
                  "/admin/<compound>/members (or apply an election result there), and the public roster shows "
                  "who appointed them. Create a staff account with --platform-admin if there is none.",
}


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup_command(path):
    """Copy the SQLite database to PATH consistently, even while the server is serving."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException("For PostgreSQL use pg_dump; `kiosk backup` copies the SQLite file.")
    target = Path(path)
    try:
        create_private_file(target)  # 0600, like the database it copies (SQLite would make it 0644)
    except FileExistsError:
        raise click.ClickException(f"{target} exists; choose a new file name.") from None
    source = sqlite3.connect(url.database, timeout=30)
    dest = sqlite3.connect(target)
    try:
        with dest:
            source.backup(dest)  # one step: a consistent snapshot even while the server writes (WAL)
    except BaseException:
        dest.close()
        target.unlink(missing_ok=True)
        raise
    finally:
        dest.close()
        source.close()
    click.echo(f"Backed up to {target}")


SQLITE_HEADER = b"SQLite format 3\x00"


def _refuse_restore(message):
    raise click.ClickException(f"{message} Nothing was changed.")


def _check_backup_file(path):
    """Return the Alembic revision of a Community Kiosk SQLite database at `path`, or refuse with why not."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        _refuse_restore(f"{path} cannot be read ({exc.strerror}).")
    if header != SQLITE_HEADER:
        _refuse_restore(f"{path} is not a SQLite database (a backup made by `kiosk backup` is one).")
    # Read-only and immutable: checking a file never changes it, nor leaves -wal/-shm files beside it.
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            _refuse_restore(f"{path} is damaged: {'; '.join(problems[:3])}.")
        try:
            revisions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
        except sqlite3.DatabaseError:
            revisions = []
    except sqlite3.DatabaseError as exc:
        _refuse_restore(f"{path} is not a readable SQLite database ({exc}).")
    finally:
        conn.close()
    if len(revisions) != 1:
        _refuse_restore(f"{path} is a SQLite database but not a Community Kiosk one (it has no schema version).")
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    known = {revision.revision for revision in script.walk_revisions()}
    if revisions[0] not in known:
        _refuse_restore(f"{path} has schema version {revisions[0]}, which this version of the kiosk does not "
                        f"know (made by a newer version?).")
    return revisions[0]


def _in_use_elsewhere(database):
    """Whether another process has the SQLite database open (a server that is running).

    In WAL mode every open connection holds a shared lock on the "DMS" byte (128) of the -shm file; a
    process that can take it exclusively knows nobody else is connected. Our own connections don't count
    (POSIX locks belong to the process)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        return False
    shm = Path(f"{database}-shm")
    if not shm.exists():
        return False
    with open(shm, "r+b") as fh:
        try:
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
        except OSError:
            return True
        fcntl.lockf(fh, fcntl.LOCK_UN, 1, 128)
    return False


def _new_private_file(path):
    """Create `path` empty and 0600, or `path-2`, `path-3`… if it exists (two restores within a second)."""
    candidate, number = path, 1
    while True:
        try:
            create_private_file(candidate)  # 0600; SQLite would make the copy 0644
            return candidate
        except FileExistsError:
            number += 1
            candidate = path.with_name(f"{path.name}-{number}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Restore even though another process has the database open.")
@with_appcontext
def restore_command(path, force):
    """Put a backup made by `kiosk backup` in place of the SQLite database, keeping the current one beside it."""
    import os
    import tempfile
    from datetime import datetime

    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        click.echo("For PostgreSQL, restore the pg_dump archive with the server stopped, e.g.:\n"
                   "  pg_restore --clean --if-exists --no-owner -d \"$DATABASE\" kiosk.dump\n"
                   "  (a plain SQL dump: psql -v ON_ERROR_STOP=1 -d \"$DATABASE\" -f kiosk.sql)\n"
                   "then run `kiosk init` to upgrade it to the current schema.")
        sys.exit(2)
    revision = _check_backup_file(path)
    target = Path(url.database).resolve()
    if Path(path).resolve() == target:
        _refuse_restore(f"{path} is the database itself.")
    db.session.remove()
    db.engine.dispose()  # this process lets go of the database before it is swapped
    if target.exists() and not force and _in_use_elsewhere(target):
        _refuse_restore(f"Another process has {target} open: stop the server first (or use --force).")

    kept = None
    if target.exists():
        kept = _new_private_file(target.with_name(f"{target.name}.before-restore-{datetime.now():%Y%m%d-%H%M%S}"))
        current = sqlite3.connect(target, timeout=30)
        copy = sqlite3.connect(kept)
        try:
            with copy:
                current.backup(copy)  # with whatever the -wal file still held
            current.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            copy.close()
            current.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.restore-", dir=target.parent)  # 0600
    os.close(handle)
    try:
        source = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        dest = sqlite3.connect(temporary)
        try:
            with dest:
                source.backup(dest)
            dest.execute("PRAGMA journal_mode=DELETE")  # a self-contained file: no -wal to go with it
        finally:
            dest.close()
            source.close()
        with open(temporary, "rb") as fh:
            os.fsync(fh.fileno())
        # The old database's -wal and -shm must not be applied to the restored file.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if kept is not None:
        click.echo(f"Kept the previous database as {kept}")
    click.echo(f"Restored {path} (schema version {revision}) to {target}")
    migrate_to_head()
    db.engine.dispose()
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config()).get_current_head()
    click.echo(f"Upgraded it to schema version {head}" if head != revision else f"Schema is current ({head})")


@click.command("verify")
@click.argument("slug", required=False)
@with_appcontext
def verify_command(slug):
    """Recompute the ledger's hash chain of one compound (or all); judge every closed period on its own."""
    from .compounds.models import Compound
    from .ledger import evidence, service, verify_report

    query = select(Compound).order_by(Compound.slug)
    if slug:
        query = query.where(Compound.slug == slug)
    compounds = db.session.scalars(query).all()
    if slug and not compounds:
        click.echo(f"No compound {slug!r}.", err=True)
        sys.exit(2)
    bad = 0
    for compound in compounds:
        kinds = [b.kind for b in service.books(compound)] or [service.BookKind.public_income]
        for kind in kinds:  # each book is its own chain; the public income book keeps the compound's name
            with service.using_book(kind):
                report = evidence.check(compound)
                label = compound.slug if kind == service.BookKind.public_income else f"{compound.slug}/{kind}"
                for line in verify_report.lines(label, report, service.periods(compound)):
                    click.echo(line)
            bad += not report.ok
        for transfer in service.broken_transfers(compound):  # both sides posted, one amount, two books
            click.echo(f"{compound.slug}: MISMATCH: transfer #{transfer.number}'s two sides no longer agree "
                       "(a side missing, unposted, of another amount, or both in one book)")
            bad += 1
    sys.exit(1 if bad else 0)


def init_app(app):
    """Register the commands on the app's CLI (so `flask --app kiosk` has them too)."""
    for command in (serve_command, init_command, demo_command, user_group, backup_command, restore_command,
                    verify_command):
        app.cli.add_command(command)
