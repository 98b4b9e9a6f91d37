"""The history chain becomes keyed (HMAC-SM3): each entry records its digest algorithm, and the
chain's head is copied now and then to append-only, keyed anchors.

Existing entries keep their unkeyed SHA-256 and are marked "sha256", so they still verify; a first
anchor, keyed, pins them (count and last digest). An unkeyed entry no anchor covers is refused by
``verify_history``, so the keyed chain cannot be downgraded to recomputable SHA-256 entries.
"""

import datetime as dt
import hmac
import importlib
import json

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

_append_only = importlib.import_module("workflow.migrations.0002_history_append_only")

PG_ANCHOR_UP = """
CREATE TRIGGER workflow_anchor_no_update BEFORE UPDATE ON workflow_historyanchor
  FOR EACH ROW EXECUTE FUNCTION workflow_history_append_only();
CREATE TRIGGER workflow_anchor_no_delete BEFORE DELETE ON workflow_historyanchor
  FOR EACH ROW EXECUTE FUNCTION workflow_history_append_only();
"""
PG_ANCHOR_DOWN = """
DROP TRIGGER IF EXISTS workflow_anchor_no_update ON workflow_historyanchor;
DROP TRIGGER IF EXISTS workflow_anchor_no_delete ON workflow_historyanchor;
"""
SQLITE_ANCHOR_UP = """
CREATE TRIGGER IF NOT EXISTS workflow_anchor_no_update BEFORE UPDATE ON workflow_historyanchor
BEGIN SELECT RAISE(ABORT, 'workflow_historyanchor is append-only (UPDATE refused)'); END;
"""
SQLITE_ANCHOR_DOWN = "DROP TRIGGER IF EXISTS workflow_anchor_no_update;"


def anchor_legacy_entries(apps, schema_editor):
    # The payload must stay byte for byte what workflow.history.anchor_mac keys.
    entry_model = apps.get_model("workflow", "HistoryEntry")
    last = entry_model.objects.order_by("-id").values("id", "hash").first()
    if last is None:
        return
    algorithm = settings.HISTORY_HMAC_ALGORITHM
    anchor = apps.get_model("workflow", "HistoryAnchor")(
        at=timezone.now(), count=entry_model.objects.count(), last_id=last["id"], last_hash=last["hash"],
        algorithm=algorithm,
    )
    body = {
        "at": anchor.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "count": anchor.count,
        "last_id": anchor.last_id,
        "last_hash": anchor.last_hash,
        "algorithm": anchor.algorithm,
    }
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    digest = {"hmac-sm3": "sm3", "hmac-sha256": "sha256"}[algorithm]
    anchor.mac = hmac.new(settings.HISTORY_HMAC_KEY.encode(), payload, digest).hexdigest()
    anchor.save(force_insert=True)


def guards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_ANCHOR_UP, params=None)
    elif vendor == "sqlite":
        # SQLite rebuilds the table to add a NOT NULL column, which drops its triggers: put the guard back.
        schema_editor.execute(_append_only.SQLITE_UP)
        schema_editor.execute(SQLITE_ANCHOR_UP)


def guards_off(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_ANCHOR_DOWN, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_ANCHOR_DOWN)


class Migration(migrations.Migration):

    dependencies = [
        ("workflow", "0008_history_record_accountability"),
    ]

    operations = [
        migrations.AddField(
            model_name="historyentry",
            name="algorithm",
            field=models.CharField(default="sha256", max_length=20),
        ),
        migrations.CreateModel(
            name="HistoryAnchor",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField()),
                ("count", models.PositiveBigIntegerField()),
                ("last_id", models.BigIntegerField(blank=True, null=True)),
                ("last_hash", models.CharField(max_length=64)),
                ("algorithm", models.CharField(max_length=20)),
                ("mac", models.CharField(max_length=64)),
            ],
            options={
                "verbose_name": "操作记录锚点",
                "verbose_name_plural": "操作记录锚点",
                "ordering": ["id"],
            },
        ),
        migrations.RunPython(guards, guards_off),
        migrations.RunPython(anchor_legacy_entries, migrations.RunPython.noop),
    ]
