"""API tokens moved from DRF's authtoken (keys stored as they are) to django-rest-knox (only a
digest stored). The old table held every token in plain text: it goes; clients ask
POST /api/auth/token/ for a new token."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_caption_preferences")]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop)
    ]
