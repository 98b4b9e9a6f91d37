"""PostgreSQL refuses TRUNCATE of the history and its anchors (TRUNCATE skips the row triggers).

A statement-level trigger, so it also fires for a TRUNCATE ... CASCADE reaching these tables from a
table they reference. The table owner could still disable it: the application role must not own the
tables and must not be granted TRUNCATE (README, "Integrity and backup"). SQLite has no TRUNCATE.
"""

from django.db import migrations

UP = """
CREATE OR REPLACE FUNCTION workflow_history_no_truncate() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (TRUNCATE refused)', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER workflow_history_no_truncate BEFORE TRUNCATE ON workflow_historyentry
  FOR EACH STATEMENT EXECUTE FUNCTION workflow_history_no_truncate();
CREATE TRIGGER workflow_anchor_no_truncate BEFORE TRUNCATE ON workflow_historyanchor
  FOR EACH STATEMENT EXECUTE FUNCTION workflow_history_no_truncate();
"""
DOWN = """
DROP TRIGGER IF EXISTS workflow_history_no_truncate ON workflow_historyentry;
DROP TRIGGER IF EXISTS workflow_anchor_no_truncate ON workflow_historyanchor;
DROP FUNCTION IF EXISTS workflow_history_no_truncate();
"""


class PostgreSQLOnly(migrations.RunSQL):
    """RunSQL that does nothing on another database."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("workflow", "0009_history_hmac_sm3_and_anchors")]
    operations = [PostgreSQLOnly(UP, DOWN)]
