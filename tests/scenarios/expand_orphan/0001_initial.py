from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("safemigrate", "0003_backfill_state")]

    operations = [
        migrations.CreateModel(
            name="Author",
            fields=[("id", models.BigAutoField(primary_key=True))],
        ),
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.AutoField(primary_key=True)),
                ("email", models.EmailField(unique=True)),
                ("qty", models.PositiveIntegerField(db_index=True, db_default=1)),
                ("price", models.DecimalField(max_digits=10, decimal_places=2)),
                ("note", models.CharField(max_length=20, null=True)),
                ("author", models.ForeignKey("scenarioapp.author", models.CASCADE, null=True)),
            ],
            options={
                "indexes": [models.Index(fields=["qty", "note"], name="item_qty_note")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(qty__lte=1_000_000), name="item_qty_at_most_a_million"
                    ),
                ],
            },
        ),
    ]
