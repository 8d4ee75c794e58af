from django.db import migrations, models

from safemigrate.operations import AlterFieldSafely


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("scenarioapp", "0015_delete_model")]

    operations = [
        # Forwards only in the tests: Django's introspection, which finds the index to drop
        # backwards, does not see a table outside the search path.
        AlterFieldSafely(
            "remote", "amount", models.IntegerField(db_index=True, db_column="Amount")
        ),
    ]
