from django.db import migrations

import safemigrate.operations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_rename_customer_client")]

    operations = [
        safemigrate.operations.FinishRenameModel(
            old_name="Customer", new_name="Client", old_table="scenarioapp_customer"
        ),
    ]
