from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0006_price_cents_contract")]

    operations = [
        migrations.AlterField(
            model_name="item", name="id", field=models.BigAutoField(primary_key=True)
        ),
    ]
