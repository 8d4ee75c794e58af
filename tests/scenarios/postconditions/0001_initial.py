from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=100)),
                ("price", models.DecimalField(max_digits=10, decimal_places=2)),
                ("price_cents", models.BigIntegerField(null=True)),
            ],
        ),
    ]
