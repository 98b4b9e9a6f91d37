"""Each consultation carries its proposal's case, so visibility reads who was consulted on what from one index."""

import django.db.models.deletion
from django.db import migrations, models

BACKFILL = (
    "UPDATE workflow_consultation SET case_id = "
    "(SELECT p.case_id FROM workflow_proposal p WHERE p.id = workflow_consultation.proposal_id)"
)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_case_managed_by_and_list_indexes"),
        ("workflow", "0019_notification_list_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="consultation",
            name="case",
            field=models.ForeignKey(
                editable=False, null=True, on_delete=django.db.models.deletion.CASCADE,
                related_name="+", to="cases.case",
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="consultation",
            name="case",
            field=models.ForeignKey(
                editable=False, on_delete=django.db.models.deletion.CASCADE,
                related_name="+", to="cases.case",
            ),
        ),
        migrations.AddIndex(
            model_name="consultation",
            index=models.Index(fields=["organisation", "case"], name="consultation_org_case_idx"),
        ),
        migrations.AddIndex(
            model_name="consultation",
            index=models.Index(condition=models.Q(("closed_at__isnull", True), ("replied_at__isnull", True)),
                               fields=["organisation"], name="consultation_waiting_idx"),
        ),
    ]
