from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0004_qty_bigint")]

    operations = [
        migrations.RenameField(model_name="item", old_name="price", new_name="price_cents"),
        migrations.AlterField(
            model_name="item", name="price_cents", field=models.BigIntegerField()
        ),
    ]
