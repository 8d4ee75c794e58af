from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0003_remove_order_note")]

    operations = [
        migrations.AddField("customer", "vip", models.BooleanField(null=True)),
    ]
