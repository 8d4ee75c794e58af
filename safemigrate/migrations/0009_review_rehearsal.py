from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('safemigrate', '0008_attempt_lock_timeout'),
    ]

    operations = [
        migrations.AddField(
            model_name='review',
            name='rehearsal',
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
