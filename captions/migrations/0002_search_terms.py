"""Search terms on each segment; on PostgreSQL also a generated tsvector column and its GIN index.

The tsvector column and the GIN index are not model fields: SQLite has neither, and Django
never writes a generated column. `captions.search` queries them by name on PostgreSQL only.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLE = "captions_transcriptsegment"

POSTGRES_FORWARD = [
    f"ALTER TABLE {TABLE} ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_terms)) STORED",
    f"CREATE INDEX segment_search_vector ON {TABLE} USING gin (search_vector)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS segment_search_vector",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS search_vector",
]


def _run_on_postgres(statements: list[str]):  # type: ignore[no-untyped-def]
    def run(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("captions", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="transcriptsegment",
            name="search_terms",
            field=models.TextField(
                blank=True, default="", editable=False, verbose_name="search terms"
            ),
        ),
        migrations.AddIndex(
            model_name="transcriptsegment",
            index=models.Index(
                condition=models.Q(("search_terms", "")),
                fields=["lecture"],
                name="segment_unindexed",
            ),
        ),
        migrations.RunPython(
            _run_on_postgres(POSTGRES_FORWARD), _run_on_postgres(POSTGRES_BACKWARD), elidable=False
        ),
    ]
