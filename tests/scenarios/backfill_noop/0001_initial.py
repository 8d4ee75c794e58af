from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("price", models.DecimalField(max_digits=10, decimal_places=2)),
                ("price_cents", models.BigIntegerField(null=True)),
                # How many times a backfill touched the row: exactly once, or it is a bug.
                ("touched", models.IntegerField(default=0)),
                # Bumped by concurrent writers: none of their updates may be lost.
                ("hits", models.IntegerField(default=0)),
            ],
        ),
    ]
