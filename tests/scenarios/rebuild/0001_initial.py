from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("safemigrate", "0003_backfill_state")]

    operations = [
        migrations.CreateModel(
            name="Owner",
            fields=[("id", models.BigAutoField(primary_key=True))],
        ),
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.AutoField(primary_key=True)),
                ("qty", models.IntegerField(db_index=True)),
                ("score", models.SmallIntegerField(default=0)),
                ("code", models.CharField(max_length=20, unique=True)),
                ("note", models.TextField(null=True)),
                ("owner", models.ForeignKey("scenarioapp.owner", models.CASCADE, null=True)),
                ("parent", models.ForeignKey("self", models.SET_NULL, null=True)),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(condition=models.Q(qty__gte=0), name="item_qty_gte_0"),
                ],
            },
        ),
        migrations.CreateModel(
            name="Line",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("item", models.ForeignKey("scenarioapp.item", models.CASCADE)),
            ],
        ),
    ]
