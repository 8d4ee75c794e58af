"""Drops the index every lookup by email uses: the query-plan check must catch it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_customer_phone")]

    operations = [
        migrations.AlterField("customer", "email", models.CharField(max_length=200)),
    ]
