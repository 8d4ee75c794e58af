"""Reversible on paper: its backwards step does nothing, so applying it again fails."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        migrations.RunSQL("CREATE TABLE scenarioapp_extra (id int)", migrations.RunSQL.noop),
    ]
