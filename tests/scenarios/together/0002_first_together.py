from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        migrations.AlterUniqueTogether("pair", {("a", "b")}),
        migrations.AlterIndexTogether("pair", {("c", "d")}),
    ]
