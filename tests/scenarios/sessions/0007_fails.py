from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0006_after_reconnect")]

    operations = [migrations.RunSQL("SELECT 1 / 0", migrations.RunSQL.noop)]
