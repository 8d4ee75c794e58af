"""Seed type 3, rename column, contract: drop ``email`` once no process runs the old code.

Post-deploy. One short transaction drops the trigger and ``email``, and gives
``email_address``'s unique constraint and index the names ``email``'s had: the schema a
plain ``RenameField`` would have left.
"""

from django.db import migrations, models

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("shop", "0017_customer_email_address"),
    ]

    operations = [
        safemigrate.operations.FinishRenameField(
            model_name="customer",
            old_name="email",
            new_name="email_address",
            old_field=models.EmailField(max_length=254, unique=True),
        ),
    ]
