from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        migrations.AddField("customer", "phone", models.CharField(max_length=30, null=True)),
        migrations.AddIndex(
            "order", models.Index(fields=["total"], name="scenarioapp_order_total")
        ),
    ]
