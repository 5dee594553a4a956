import django.db.models.deletion
from django.db import migrations, models


def unpublish_periods(apps, schema_editor):
    """Periods stored before this column name no card to renew: stop reading them until the next full rebuild
    (`manage.py timeline`), so renewal counts are never read from rows that lack it. Readers compute meanwhile."""
    apps.get_model("compliance", "TimelineState").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("certifications", "0003_prerequisite_history"),
        ("compliance", "0008_timeline_covering_indexes"),
        ("organisation", "0004_data_problems"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="requirementperiod",
            name="reqperiod_range_covering",
        ),
        migrations.AddField(
            model_name="requirementperiod",
            name="renew_credential",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="certifications.credential",
            ),
        ),
        migrations.RunPython(unpublish_periods, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="requirementperiod",
            index=models.Index(
                fields=["valid_from", "valid_to"],
                include=(
                    "department",
                    "role",
                    "requirement",
                    "status",
                    "mandatory",
                    "employee",
                    "expires_on",
                    "renew_credential",
                ),
                name="reqperiod_range_covering",
            ),
        ),
    ]
