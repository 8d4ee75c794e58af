"""A non-atomic copy and its postcondition: the copy has as many rows as the original.

The copy leaves out prices of 1000.00 and more, so a test that inserts one makes it fail.
"""

from django.db import migrations, models

import safemigrate.operations


def copy_is_complete(apps, schema_editor):
    """The copy has as many rows as the original."""
    alias = schema_editor.connection.alias
    original = apps.get_model("scenarioapp", "Product").objects.using(alias).count()
    copied = apps.get_model("scenarioapp", "ProductCopy").objects.using(alias).count()
    assert copied == original, f"{copied} rows copied of {original}"
    return True


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0003_fill_price_cents")]

    operations = [
        migrations.CreateModel(
            name="ProductCopy",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=100)),
                ("price_cents", models.BigIntegerField()),
            ],
        ),
        migrations.RunSQL(
            "INSERT INTO scenarioapp_productcopy (name, price_cents) "
            "SELECT name, price_cents FROM scenarioapp_product WHERE price_cents < 100000",
            "DELETE FROM scenarioapp_productcopy",
        ),
        safemigrate.operations.VerifyPython(copy_is_complete),
    ]
