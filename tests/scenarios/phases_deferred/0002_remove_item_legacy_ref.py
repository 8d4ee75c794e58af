# Written as django-deferred-migrations documents a field removal.
from deferred_migrations.operations import DeferredRemoveField
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("deferred_migrations", "0001_initial"), ("scenarioapp", "0001_initial")]

    operations = [DeferredRemoveField(model_name="item", name="legacy_ref")]
