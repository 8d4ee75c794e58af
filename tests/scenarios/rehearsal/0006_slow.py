"""Takes its time: the fault test kills the rehearsal while it runs on the copy."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0005_named_customers")]

    operations = [migrations.RunSQL("SELECT pg_sleep(20)", migrations.RunSQL.noop)]
