from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0005_price_cents")]

    operations = []
