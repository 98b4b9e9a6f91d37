"""Database guards: audit rows cannot be updated, nor deleted inside the 183-day legal minimum.

PostgreSQL (production): a row trigger refuses UPDATE, and DELETE of rows younger than 183 days; only
TRUNCATE (which the application role should not be granted) bypasses it. SQLite (demo and local tests):
a trigger refuses UPDATE; deletion is refused by the model, because Django's test flush empties every
table with DELETE.
"""

from django.conf import settings
from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION audit_event_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION '审计记录不可修改';
    END IF;
    IF OLD."at" > now() - interval '183 days' THEN
        RAISE EXCEPTION '审计记录保存未满 183 天，不可删除';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_guard BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_guard();
"""
PG_DOWN = "DROP TRIGGER IF EXISTS audit_event_guard ON audit_auditevent; DROP FUNCTION IF EXISTS audit_event_guard();"
SQLITE_UP = """
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
BEGIN SELECT RAISE(ABORT, '审计记录不可修改'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS audit_event_no_update;"


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


def auditor_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=settings.AUDIT_AUDITOR_GROUP)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(install, uninstall),
        migrations.RunPython(auditor_group, migrations.RunPython.noop),
    ]
