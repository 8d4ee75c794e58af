from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("scenarioapp", "0001_initial")]

    # The new table's foreign key to the existing one is deferred SQL: Django runs it when the
    # schema editor closes, and it needs a SHARE ROW EXCLUSIVE lock on scenarioapp_item.
    operations = [
        migrations.CreateModel(
            name="Note",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("item", models.ForeignKey("scenarioapp.Item", on_delete=models.CASCADE)),
            ],
        ),
    ]
