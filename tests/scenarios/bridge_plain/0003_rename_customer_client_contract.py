from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_rename_customer_client")]

    operations = []
