from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="Other",
            fields=[("id", models.BigAutoField(primary_key=True))],
        ),
        migrations.AddField("item", "note", models.TextField(null=True)),
        AddIndexConcurrently("item", models.Index(fields=["name"], name="item_name_idx")),
    ]
