"""Alembic's entry point for both databases: ``adapters.persistence.migrate`` passes the connection
and which database (its metadata, version table and revisions) in ``config.attributes``."""

from alembic import context

connection = context.config.attributes["connection"]
database = context.config.attributes["database"]
context.configure(
    connection=connection,
    target_metadata=database.metadata,
    version_table=database.version_table,
    include_name=database.owns,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
