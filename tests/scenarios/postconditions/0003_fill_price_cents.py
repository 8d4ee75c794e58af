"""An atomic data migration and its postconditions: a query, and a function of the models.

The fill skips negative prices, so a test that inserts one makes the first check fail.
"""

from django.db import migrations
from django.db.models import F

import safemigrate.operations


def cents_match_prices(apps, schema_editor):
    """Every price_cents equals the price in cents."""
    product = apps.get_model("scenarioapp", "Product")
    products = product.objects.using(schema_editor.connection.alias)
    return not products.exclude(price_cents=F("price") * 100).exists()


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_product_note")]

    operations = [
        migrations.RunSQL(
            "UPDATE scenarioapp_product SET price_cents = (price * 100)::bigint WHERE price >= 0",
            "UPDATE scenarioapp_product SET price_cents = NULL",
        ),
        safemigrate.operations.Verify(
            "SELECT count(*) FROM scenarioapp_product WHERE price_cents IS NULL",
            expect=0,
            description="no product without price_cents",
        ),
        safemigrate.operations.VerifyPython(cents_match_prices),
    ]

    # After the operations: in the class body, this name hides the safemigrate module.
    safemigrate = {"allow": {"SM117": "a test table of a few rows"}}
