from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0003_rename_email_contract")]

    operations = [
        migrations.AlterField(
            model_name="item",
            name="qty",
            field=models.PositiveBigIntegerField(db_index=True, db_default=1),
        ),
    ]
