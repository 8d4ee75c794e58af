from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_item_note")]

    # A plain RemoveField: post-deploy, and unsafe while the old code still reads the column.
    operations = [migrations.RemoveField("item", "legacy")]
