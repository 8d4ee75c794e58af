from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        migrations.AlterField("item", "qty", models.BigIntegerField(db_index=True)),
        migrations.AlterField("item", "score", models.IntegerField(default=0)),
    ]
