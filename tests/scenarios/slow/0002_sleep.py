from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        migrations.RunSQL("SELECT pg_sleep(1)", migrations.RunSQL.noop),
    ]
