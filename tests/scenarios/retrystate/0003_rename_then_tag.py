from django.db import migrations, models


class Migration(migrations.Migration):
    """Changes the state before it meets a lock: a retry must start from the state before."""

    dependencies = [("scenarioapp", "0002_item")]

    operations = [
        migrations.RenameField("item", "name", "title"),
        migrations.AddField("tag", "note", models.TextField(null=True)),
    ]
