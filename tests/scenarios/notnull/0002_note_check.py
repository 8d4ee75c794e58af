from django.db import migrations


class Migration(migrations.Migration):
    """A hand-written check that proves NOT NULL: only the live catalog knows it."""

    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE scenarioapp_item ADD CONSTRAINT item_note_nn "
            "CHECK (note IS NOT NULL AND note <> '')",
            "ALTER TABLE scenarioapp_item DROP CONSTRAINT item_note_nn",
        ),
    ]
