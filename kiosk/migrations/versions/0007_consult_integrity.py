"""consultation integrity: secret-ballot snapshots, correction notes, kiosk keypad steps and guesses, and
triggers that keep a published topic's wording and a decided topic's ballots, electorate and result fixed

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00

Nothing existing changes value: the new topic columns start empty (an open secret topic releases its
first snapshot on the next look), and the triggers only refuse future changes.
Note for later migrations: on SQLite, a batch_alter_table that recreates topic, topic_option, elector,
ballot or topic_correction drops these triggers with the old table; create them again afterwards.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

WORDING = ("title", "background", "kind", "rule", "seats", "secret", "visibility", "allow_change", "compound_id")
DECIDED = ("opens_at", "closes_at", "published_at", "closed_at", "released_figures", "released_at", "created_by",
           "created_at")
MESSAGES = {
    "ballot_open": "ballots are taken only while a topic is open",
    "ballot_fixed": "a ballot is never changed; a new one supersedes it while the vote is open",
    "ballot_kept": "ballots are never deleted",
    "elector_draft": "the electorate is fixed when a topic is published",
    "option_draft": "options change only while a topic is a draft",
    "wording": "the wording and rules of a published topic are fixed; add a correction note",
    "decided": "a decided topic is fixed",
    "result": "a frozen result, its fingerprint and its resolution notice are never changed",
    "topic_kept": "only a draft topic may be deleted",
    "correction_open": "correction notes are added only while a topic is published",
    "correction_kept": "correction notes are never changed or deleted",
}


def _differs_sqlite(columns):
    return " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)


def _sqlite_raise(key):
    return f"BEGIN SELECT RAISE(ABORT, '{MESSAGES[key]}'); END"


def _status(row, alias):
    return f"(SELECT status FROM topic WHERE id = {alias}.{row})"


SQLITE = [
    f"CREATE TRIGGER ballot_insert_open BEFORE INSERT ON ballot WHEN {_status('topic_id', 'NEW')} IS NOT 'published' "
    f"{_sqlite_raise('ballot_open')}",
    f"CREATE TRIGGER ballot_update_fixed BEFORE UPDATE ON ballot WHEN {_status('topic_id', 'OLD')} IS NOT 'published' "
    f"OR {_differs_sqlite(('id', 'topic_id', 'household_id', 'choices', 'channel', 'entered_by', 'cast_at'))} "
    f"OR (NEW.current AND NOT OLD.current) {_sqlite_raise('ballot_fixed')}",
    f"CREATE TRIGGER ballot_no_delete BEFORE DELETE ON ballot {_sqlite_raise('ballot_kept')}",
    f"CREATE TRIGGER elector_insert_draft BEFORE INSERT ON elector WHEN {_status('topic_id', 'NEW')} IS NOT 'draft' "
    f"{_sqlite_raise('elector_draft')}",
    f"CREATE TRIGGER elector_no_update BEFORE UPDATE ON elector {_sqlite_raise('elector_draft')}",
    f"CREATE TRIGGER elector_no_delete BEFORE DELETE ON elector {_sqlite_raise('elector_draft')}",
    f"CREATE TRIGGER option_insert_draft BEFORE INSERT ON topic_option WHEN {_status('topic_id', 'NEW')} "
    f"IS NOT 'draft' {_sqlite_raise('option_draft')}",
    f"CREATE TRIGGER option_update_draft BEFORE UPDATE ON topic_option WHEN {_status('topic_id', 'OLD')} "
    f"IS NOT 'draft' {_sqlite_raise('option_draft')}",
    f"CREATE TRIGGER option_delete_draft BEFORE DELETE ON topic_option WHEN {_status('topic_id', 'OLD')} "
    f"IS NOT 'draft' {_sqlite_raise('option_draft')}",
    f"CREATE TRIGGER topic_wording_fixed BEFORE UPDATE ON topic WHEN OLD.status <> 'draft' "
    f"AND ({_differs_sqlite(WORDING)} OR NEW.status = 'draft') {_sqlite_raise('wording')}",
    f"CREATE TRIGGER topic_decided_fixed BEFORE UPDATE ON topic WHEN OLD.status IN ('closed', 'done') "
    f"AND (NEW.status NOT IN ('closed', 'done') OR (OLD.status = 'done' AND NEW.status <> 'done') "
    f"OR {_differs_sqlite(DECIDED)}) {_sqlite_raise('decided')}",
    "CREATE TRIGGER topic_result_fixed BEFORE UPDATE ON topic WHEN "
    "(OLD.result IS NOT NULL AND NEW.result IS NOT OLD.result) "
    "OR (OLD.fingerprint <> '' AND NEW.fingerprint IS NOT OLD.fingerprint) "
    "OR (OLD.resolution_notice_id IS NOT NULL AND NEW.resolution_notice_id IS NOT OLD.resolution_notice_id) "
    f"{_sqlite_raise('result')}",
    f"CREATE TRIGGER topic_no_delete BEFORE DELETE ON topic WHEN OLD.status <> 'draft' {_sqlite_raise('topic_kept')}",
    f"CREATE TRIGGER correction_insert_open BEFORE INSERT ON topic_correction WHEN "
    f"{_status('topic_id', 'NEW')} IS NOT 'published' {_sqlite_raise('correction_open')}",
    f"CREATE TRIGGER correction_no_update BEFORE UPDATE ON topic_correction {_sqlite_raise('correction_kept')}",
    f"CREATE TRIGGER correction_no_delete BEFORE DELETE ON topic_correction {_sqlite_raise('correction_kept')}",
]


def _differs_pg(columns):
    # json has no equality operator in PostgreSQL: compare its text.
    def one(c):
        cast = "::text" if c in ("released_figures", "result") else ""
        return f"NEW.{c}{cast} IS DISTINCT FROM OLD.{c}{cast}"
    return " OR ".join(one(c) for c in columns)


def _pg_raise(key):
    return f"RAISE EXCEPTION '{MESSAGES[key]}'"


def _pg_function(name, body):
    return (f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE topic_status text; BEGIN "
            f"{body} IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$")


def _pg_status(alias):
    return f"SELECT status INTO topic_status FROM topic WHERE id = {alias}.topic_id;"


POSTGRESQL = [
    _pg_function("ballot_fixed", f"""
        IF TG_OP = 'DELETE' THEN {_pg_raise('ballot_kept')}; END IF;
        IF TG_OP = 'INSERT' THEN {_pg_status('NEW')}
          IF topic_status IS DISTINCT FROM 'published' THEN {_pg_raise('ballot_open')}; END IF;
        ELSE {_pg_status('OLD')}
          IF topic_status IS DISTINCT FROM 'published'
             OR {_differs_pg(('id', 'topic_id', 'household_id', 'channel', 'entered_by', 'cast_at'))}
             OR NEW.choices::text IS DISTINCT FROM OLD.choices::text OR (NEW.current AND NOT OLD.current)
          THEN {_pg_raise('ballot_fixed')}; END IF;
        END IF;"""),
    "CREATE TRIGGER ballot_fixed BEFORE INSERT OR UPDATE OR DELETE ON ballot FOR EACH ROW EXECUTE FUNCTION ballot_fixed()",
    _pg_function("elector_fixed", f"""
        IF TG_OP <> 'INSERT' THEN {_pg_raise('elector_draft')}; END IF;
        {_pg_status('NEW')}
        IF topic_status IS DISTINCT FROM 'draft' THEN {_pg_raise('elector_draft')}; END IF;"""),
    "CREATE TRIGGER elector_fixed BEFORE INSERT OR UPDATE OR DELETE ON elector FOR EACH ROW "
    "EXECUTE FUNCTION elector_fixed()",
    _pg_function("option_fixed", f"""
        IF TG_OP = 'INSERT' THEN {_pg_status('NEW')} ELSE {_pg_status('OLD')} END IF;
        IF topic_status IS DISTINCT FROM 'draft' THEN {_pg_raise('option_draft')}; END IF;"""),
    "CREATE TRIGGER option_fixed BEFORE INSERT OR UPDATE OR DELETE ON topic_option FOR EACH ROW "
    "EXECUTE FUNCTION option_fixed()",
    _pg_function("topic_fixed", f"""
        IF TG_OP = 'DELETE' THEN
          IF OLD.status <> 'draft' THEN {_pg_raise('topic_kept')}; END IF;
          RETURN OLD;
        END IF;
        IF OLD.status <> 'draft' AND ({_differs_pg(WORDING)} OR NEW.status = 'draft') THEN
          {_pg_raise('wording')}; END IF;
        IF OLD.status IN ('closed', 'done') AND (NEW.status NOT IN ('closed', 'done')
           OR (OLD.status = 'done' AND NEW.status <> 'done') OR {_differs_pg(DECIDED)}) THEN
          {_pg_raise('decided')}; END IF;
        IF (OLD.result IS NOT NULL AND NEW.result::text IS DISTINCT FROM OLD.result::text)
           OR (OLD.fingerprint <> '' AND NEW.fingerprint IS DISTINCT FROM OLD.fingerprint)
           OR (OLD.resolution_notice_id IS NOT NULL
               AND NEW.resolution_notice_id IS DISTINCT FROM OLD.resolution_notice_id) THEN
          {_pg_raise('result')}; END IF;"""),
    "CREATE TRIGGER topic_fixed BEFORE UPDATE OR DELETE ON topic FOR EACH ROW EXECUTE FUNCTION topic_fixed()",
    _pg_function("correction_fixed", f"""
        IF TG_OP <> 'INSERT' THEN {_pg_raise('correction_kept')}; END IF;
        {_pg_status('NEW')}
        IF topic_status IS DISTINCT FROM 'published' THEN {_pg_raise('correction_open')}; END IF;"""),
    "CREATE TRIGGER correction_fixed BEFORE INSERT OR UPDATE OR DELETE ON topic_correction FOR EACH ROW "
    "EXECUTE FUNCTION correction_fixed()",
]
PG_TRIGGERS = (("ballot_fixed", "ballot"), ("elector_fixed", "elector"), ("option_fixed", "topic_option"),
               ("topic_fixed", "topic"), ("correction_fixed", "topic_correction"))
SQLITE_TRIGGERS = [statement.split()[2] for statement in SQLITE]


def upgrade():
    with op.batch_alter_table('topic', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_figures', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('released_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('topic_correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_topic_correction_created_by_user')),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_topic_correction_topic_id_topic')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topic_correction'))
    )
    with op.batch_alter_table('topic_correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_correction_topic_id'), ['topic_id'], unique=False)

    op.create_table('kiosk_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('screen_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('nonce_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_kiosk_step_compound_id_compound')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_kiosk_step_household_id_household')),
    sa.ForeignKeyConstraint(['screen_id'], ['screen.id'], name=op.f('fk_kiosk_step_screen_id_screen')),
    sa.ForeignKeyConstraint(['topic_id'], ['topic.id'], name=op.f('fk_kiosk_step_topic_id_topic')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_step')),
    sa.UniqueConstraint('nonce_hash', name=op.f('uq_kiosk_step_nonce_hash'))
    )
    op.create_table('kiosk_guess',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('screen_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_kiosk_guess_compound_id_compound')),
    sa.ForeignKeyConstraint(['screen_id'], ['screen.id'], name=op.f('fk_kiosk_guess_screen_id_screen')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_guess'))
    )
    with op.batch_alter_table('kiosk_guess', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_guess_at'), ['at'], unique=False)
        batch_op.create_index('ix_kiosk_guess_compound_at', ['compound_id', 'at'], unique=False)
        batch_op.create_index('ix_kiosk_guess_screen_at', ['screen_id', 'at'], unique=False)
    with op.batch_alter_table('kiosk_code', schema=None) as batch_op:
        batch_op.create_index('ix_kiosk_code_household', ['household_id', 'expires_at'], unique=False)

    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(dialect, []):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for name, table in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    elif dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table('kiosk_code', schema=None) as batch_op:
        batch_op.drop_index('ix_kiosk_code_household')
    with op.batch_alter_table('kiosk_guess', schema=None) as batch_op:
        batch_op.drop_index('ix_kiosk_guess_screen_at')
        batch_op.drop_index('ix_kiosk_guess_compound_at')
        batch_op.drop_index(batch_op.f('ix_kiosk_guess_at'))
    op.drop_table('kiosk_guess')
    op.drop_table('kiosk_step')
    with op.batch_alter_table('topic_correction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_correction_topic_id'))
    op.drop_table('topic_correction')
    with op.batch_alter_table('topic', schema=None) as batch_op:
        batch_op.drop_column('released_at')
        batch_op.drop_column('released_figures')
