from django.db import migrations

from tests.scenarios.sessions import record


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0003_reset_all")]

    operations = [
        record("after RESET ALL"),
        migrations.RunSQL("SELECT set_config('lock_timeout', '0', false)", migrations.RunSQL.noop),
    ]
