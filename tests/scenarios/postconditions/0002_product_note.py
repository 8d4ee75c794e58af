"""A nullable column: a migration that goes through, before the checked one."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        migrations.AddField("product", "note", models.TextField(null=True)),
    ]
