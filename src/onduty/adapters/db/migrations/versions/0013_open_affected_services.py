"""affected services carry whether their incident is open, kept by triggers, with a partial index, so
"the oldest open incident affecting a service" is one index probe however many incidents it had

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0008"
branch_labels = None
depends_on = None

# The statuses open for paging, dedup and inhibition (onduty.domain.incidents.OPEN_STATUSES when written).
OPEN = "('triggered', 'acknowledged', 'mitigated')"


def _postgres_triggers() -> None:
    # A new row takes its incident's openness. FOR SHARE waits for a transaction changing the incident's
    # status and then reads the committed status, so a row added meanwhile cannot keep a stale value
    # (the status change's own trigger, already run, did not see the uncommitted row).
    op.execute("CREATE FUNCTION onduty_incident_services_open() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
               f"SELECT status IN {OPEN} INTO NEW.open FROM incidents WHERE id = NEW.incident_id FOR SHARE; "
               "NEW.open := COALESCE(NEW.open, false); "  # no incident: the foreign key refuses the row
               "RETURN NEW; END $$")
    op.execute("CREATE TRIGGER incident_services_open BEFORE INSERT OR UPDATE OF incident_id ON incident_services "
               "FOR EACH ROW EXECUTE FUNCTION onduty_incident_services_open()")
    op.execute("CREATE FUNCTION onduty_incident_open_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
               f"UPDATE incident_services SET open = (NEW.status IN {OPEN}) WHERE incident_id = NEW.id; "
               "RETURN NULL; END $$")
    op.execute("CREATE TRIGGER incidents_open_services AFTER UPDATE OF status ON incidents FOR EACH ROW "
               f"WHEN ((OLD.status IN {OPEN}) IS DISTINCT FROM (NEW.status IN {OPEN})) "
               "EXECUTE FUNCTION onduty_incident_open_changed()")


def _sqlite_triggers() -> None:
    # SQLite cannot change NEW in a BEFORE trigger: the row is corrected after its insert, when needed.
    # A table rebuilt by a later batch migration loses its triggers: such a migration must create them again.
    status = f"COALESCE((SELECT status IN {OPEN} FROM incidents WHERE id = NEW.incident_id), 0)"
    op.execute("CREATE TRIGGER incident_services_open AFTER INSERT ON incident_services "
               f"WHEN NEW.open IS NOT {status} "
               f"BEGIN UPDATE incident_services SET open = {status} "
               "WHERE incident_id = NEW.incident_id AND service_id = NEW.service_id; END")
    op.execute("CREATE TRIGGER incident_services_open_moved AFTER UPDATE OF incident_id ON incident_services "
               f"WHEN NEW.open IS NOT {status} "
               f"BEGIN UPDATE incident_services SET open = {status} "
               "WHERE incident_id = NEW.incident_id AND service_id = NEW.service_id; END")
    op.execute("CREATE TRIGGER incidents_open_services AFTER UPDATE OF status ON incidents "
               f"WHEN (OLD.status IN {OPEN}) IS NOT (NEW.status IN {OPEN}) "
               f"BEGIN UPDATE incident_services SET open = (NEW.status IN {OPEN}) WHERE incident_id = NEW.id; END")


def upgrade() -> None:
    with op.batch_alter_table("incident_services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("open", sa.Boolean(), nullable=False, server_default=sa.text("false")))
    # Only the rows of open incidents change: a long history of resolved ones is left as it is.
    op.execute(f"UPDATE incident_services SET open = true WHERE incident_id IN "
               f"(SELECT id FROM incidents WHERE status IN {OPEN})")
    op.create_index("ix_incident_services_open", "incident_services", ["service_id", "incident_id"], unique=False,
                    sqlite_where=sa.text("open"), postgresql_where=sa.text("open"))
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS incidents_open_services ON incidents")
        op.execute("DROP TRIGGER IF EXISTS incident_services_open ON incident_services")
        op.execute("DROP FUNCTION IF EXISTS onduty_incident_open_changed()")
        op.execute("DROP FUNCTION IF EXISTS onduty_incident_services_open()")
    else:
        op.execute("DROP TRIGGER IF EXISTS incidents_open_services")
        op.execute("DROP TRIGGER IF EXISTS incident_services_open_moved")
        op.execute("DROP TRIGGER IF EXISTS incident_services_open")
    op.drop_index("ix_incident_services_open", table_name="incident_services")
    with op.batch_alter_table("incident_services", schema=None) as batch_op:
        batch_op.drop_column("open")
