"""Extensions, created once here and bound to the app in create_app()."""
from flask_babel import Babel
from flask_login import LoginManager
import click
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names keep Alembic migrations reproducible across engines.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


class _PendingMigrate:
    """app.extensions["migrate"] until something reads it: then Flask-Migrate is set up for real (replacing
    this entry and the `db` command) and the attribute comes from its configuration."""

    def __init__(self, app, database, options):
        self.app, self.database, self.options = app, database, options

    def __getattr__(self, name):
        """Set Flask-Migrate up now and answer from its configuration."""
        from flask_migrate import Migrate

        Migrate().init_app(self.app, self.database, **self.options)
        return getattr(self.app.extensions["migrate"], name)


class _LazyDbCommands(click.Group):
    """Flask-Migrate's `db` command group, imported when a `db` subcommand is named or listed."""

    def _real(self):
        """Flask-Migrate's own `db` group."""
        from flask_migrate.cli import db as commands

        return commands

    def parse_args(self, ctx, args):
        """Take the real group's options and callback before click parses the command line."""
        real = self._real()
        self.params, self.callback = real.params, real.callback  # its -d/-x options, and g.directory
        return super().parse_args(ctx, args)

    def list_commands(self, ctx):
        """The real group's subcommands (for --help)."""
        return self._real().list_commands(ctx)

    def get_command(self, ctx, cmd_name):
        """The real group's subcommand of that name."""
        return self._real().get_command(ctx, cmd_name)


class LazyMigrate:
    """Flask-Migrate, imported only when a migration command, `kiosk init` or a test needs it.

    Importing it brings Alembic, Mako and (through Mako) Pygments' lexers: ~11 MiB in every serving process that
    never migrates (`kiosk serve` checks the schema without them, cli.schema_is_current). The `db` commands and
    app.extensions["migrate"] behave as Flask-Migrate's own once touched."""

    def init_app(self, app, database, **options):
        """Register the pending configuration and the `db` command group (both set up on first use)."""
        app.extensions["migrate"] = _PendingMigrate(app, database, options)
        app.cli.add_command(_LazyDbCommands("db", help="Perform database migrations."))


migrate = LazyMigrate()
