"""The database itself refuses UPDATE and DELETE on history entries."""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION workflow_history_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'workflow_historyentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER workflow_history_no_update BEFORE UPDATE ON workflow_historyentry
  FOR EACH ROW EXECUTE FUNCTION workflow_history_append_only();
CREATE TRIGGER workflow_history_no_delete BEFORE DELETE ON workflow_historyentry
  FOR EACH ROW EXECUTE FUNCTION workflow_history_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS workflow_history_no_update ON workflow_historyentry;
DROP TRIGGER IF EXISTS workflow_history_no_delete ON workflow_historyentry;
DROP FUNCTION IF EXISTS workflow_history_append_only();
"""
# SQLite (the embedded mode) refuses UPDATE; DELETE stays possible there only because the test
# runner empties tables with DELETE between tests. PostgreSQL refuses both.
SQLITE_UP = """
CREATE TRIGGER IF NOT EXISTS workflow_history_no_update BEFORE UPDATE ON workflow_historyentry
BEGIN SELECT RAISE(ABORT, 'workflow_historyentry is append-only (UPDATE refused)'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS workflow_history_no_update;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("workflow", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
