from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("safemigrate", "0003_backfill_state")]

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("price", models.DecimalField(max_digits=10, decimal_places=2)),
                ("stock", models.IntegerField(default=0)),
                ("price_cents", models.BigIntegerField(null=True)),
            ],
        ),
    ]
