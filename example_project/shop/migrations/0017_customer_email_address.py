"""Seed type 3, rename column, expand: ``users.email`` becomes ``email_address``.

The seed adds ``email_address``, copies ``email`` into it once, and asks the application to
write both. ``RenameFieldSafely`` adds the column, keeps it equal to ``email`` with a trigger
(old code writes ``email``, new code ``email_address``: each write reaches the other), fills
the existing rows in batches, makes it NOT NULL, and builds a copy of ``email``'s unique
constraint and index on it, concurrently. Deploy the code that says ``email_address`` after
this migration.
"""

from django.db import migrations

import safemigrate.operations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("shop", "0016_remove_order_total"),
    ]

    operations = [
        safemigrate.operations.RenameFieldSafely(
            model_name="customer", old_name="email", new_name="email_address"
        ),
    ]
