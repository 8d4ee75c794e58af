from django.db import migrations, models


class Migration(migrations.Migration):
    replaces = [
        ("scenarioapp", "0001_initial"),
        ("scenarioapp", "0002_item_note"),
        ("scenarioapp", "0003_item_name_idx"),
    ]
    initial = True

    operations = [
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=100)),
                ("quantity", models.IntegerField(default=0)),
                ("note", models.TextField(null=True)),
            ],
            options={"indexes": [models.Index(fields=["name"], name="item_name_idx")]},
        ),
    ]
