"""The decision date (the first decision's meeting date) on the case, backfilled from the decisions."""

from django.db import migrations, models


def backfill(apps, schema_editor):
    """Cases decided before this field existed take the meeting date of their first decision."""
    Case = apps.get_model("cases", "Case")
    Decision = apps.get_model("workflow", "Decision")
    first = (Decision.objects.filter(case=models.OuterRef("pk"), kind="decision").order_by("sequence")
             .values("meeting_date")[:1])
    decided = Decision.objects.filter(case=models.OuterRef("pk"), kind="decision")
    Case.objects.filter(models.Exists(decided), decision_date__isnull=True).update(decision_date=models.Subquery(first))


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0004_case_accountability_measure"),
        ("workflow", "0006_consultation_closing_and_notification_tasks"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="decision_date",
            field=models.DateField(blank=True, help_text="首次集体研究决定的会议日期；备案登记按此排序和筛选", null=True,
                                   verbose_name="决定日期"),
        ),
        migrations.AlterField(
            model_name="case",
            name="decided_at",
            field=models.DateTimeField(blank=True, help_text="首次集体研究决定录入系统的时间", null=True,
                                       verbose_name="决定录入时间"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["-decision_date", "-id"], name="case_decision_date_idx"),
        ),
    ]
