from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0002_item_note"), ("scenarioapp", "0002_item_label")]

    operations = []
