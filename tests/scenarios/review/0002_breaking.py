from django.db import migrations, models


def fill_codes(apps, schema_editor):
    apps.get_model("scenarioapp", "Item").objects.filter(code="").update(code="none")


class Migration(migrations.Migration):
    """Every kind of breaking change, and a data step that cannot be undone."""

    dependencies = [("scenarioapp", "0001_initial")]

    operations = [
        migrations.RemoveField("item", "legacy"),
        migrations.RenameField("item", "name", "title"),
        migrations.AlterField("item", "price", models.BigIntegerField(default=0)),
        migrations.AddIndex("item", models.Index(fields=["code"], name="item_code_idx")),
        migrations.RunPython(fill_codes),
    ]
