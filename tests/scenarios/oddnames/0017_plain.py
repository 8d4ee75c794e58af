from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0016_alter_remote")]

    operations = [
        migrations.AddIndex(
            "legacyorder", models.Index(fields=["total"], name="LegacyOrder Total")
        ),
        migrations.AddIndex("odd", models.Index(fields=["choice"], name="Odd Select")),
        migrations.AddIndex("remote", models.Index(fields=["code"], name="Remote Code")),
    ]
