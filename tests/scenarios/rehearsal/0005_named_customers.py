"""Checks that every customer has a name: a postcondition the rehearsal runs on its copy."""

from django.db import migrations

import safemigrate.operations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0004_random_index")]

    operations = [
        safemigrate.operations.Verify(
            "SELECT count(*) FROM scenarioapp_customer WHERE name = ''",
            expect=0,
            description="every customer has a name",
        ),
    ]
