"""The `kiosk` command (also `flask --app kiosk ...`): serve, init, demo, user add, backup."""
import socket
import sqlite3
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from .extensions import db


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


def schema_is_current():
    """Return whether the database is at the latest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    return set(current) == set(script.get_heads())


def serve_app(app, host, port, threads):
    """Serve the app with waitress, printing where to open it."""
    from waitress import serve

    from . import sweeper

    # The command's own session may still hold a transaction (on SQLite a write lock): end it before serving.
    db.session.remove()
    sweeper.start(app)
    click.echo(f"社区公示屏 listening on http://{host}:{port}/  (threads={threads})")
    if host in ("0.0.0.0", "::"):
        for address in lan_addresses():
            click.echo(f"  on the local network: http://{address}:{port}/")
    serve(app, host=host, port=port, threads=threads, ident="kiosk", clear_untrusted_proxy_headers=True)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for the LAN).")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def serve_command(host, port, threads):
    """Serve the application with waitress."""
    if not schema_is_current():
        raise click.ClickException("The database schema is not current: run `kiosk init` first.")
    serve_app(current_app._get_current_object(), host, port, threads)


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
    click.echo(f"  A household card ({summary['card_address']}): {url}/h/{summary['card_token']}")
    click.echo("    (a new card each time the demo starts; the previous one stops working)")
    click.echo(f"  Consultations (open the card first, then vote): {url}/{summary['slug']}/topics")
    click.echo(f"  Second compound:          {url}/{summary['other_slug']}/")
    click.echo(f"  Committee admin (phone):  {url}/admin/")
    click.echo(f"    chair login:  {summary['chair']}  one-time password: {summary['chair_password']}")
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
              show_default=True)
@click.option("--platform-admin", is_flag=True, help="Give the account platform-wide staff rights.")
@click.option("--password", help="Set this password instead of printing a one-time one.")
@with_appcontext
def user_add(username, display_name, slug, role, platform_admin, password):
    """Add an account; prints a one-time password unless --password is given."""
    from .auth.models import Membership, Role, User
    from .compounds.models import Compound
    from .compounds.views import new_password

    username = username.strip().lower()
    if db.session.scalar(select(User).where(User.username == username)):
        raise click.ClickException(f"An account named {username!r} already exists.")
    compound = None
    if slug:
        compound = db.session.scalar(select(Compound).where(Compound.slug == slug))
        if compound is None:
            raise click.ClickException(f"No compound {slug!r}.")
    elif not platform_admin:
        raise click.ClickException("Give --compound SLUG or --platform-admin.")
    one_time = password or new_password()
    user = User(username=username, display_name=display_name or username, is_platform_admin=platform_admin,
                must_change_password=password is None)
    user.set_password(one_time)
    db.session.add(user)
    db.session.flush()
    if compound is not None:
        db.session.add(Membership(user_id=user.id, compound_id=compound.id, role=Role(role)))
    db.session.commit()
    click.echo(f"Added {username}." + ("" if password else f" One-time password: {one_time}"))


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup_command(path):
    """Copy the SQLite database to PATH consistently, even while the server is serving."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException("For PostgreSQL use pg_dump; `kiosk backup` copies the SQLite file.")
    target = Path(path)
    if target.exists():
        raise click.ClickException(f"{target} exists; choose a new file name.")
    source = sqlite3.connect(url.database, timeout=30)
    dest = sqlite3.connect(target)
    try:
        with dest:
            source.backup(dest)  # one step: a consistent snapshot even while the server writes (WAL)
    finally:
        dest.close()
        source.close()
    click.echo(f"Backed up to {target}")


def init_app(app):
    """Register the commands on the app's CLI (so `flask --app kiosk` has them too)."""
    for command in (serve_command, init_command, demo_command, user_group, backup_command):
        app.cli.add_command(command)
