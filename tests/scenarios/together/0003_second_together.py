from django.db import migrations


class Migration(migrations.Migration):
    """Replaces both: unapplying 0002 later needs what unapplying this one puts back."""

    dependencies = [("scenarioapp", "0002_first_together")]

    operations = [
        migrations.AlterUniqueTogether("pair", {("a", "c")}),
        migrations.AlterIndexTogether("pair", {("b", "d")}),
    ]
