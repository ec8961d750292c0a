"""Alembic environment of the example migrations, written the way the alembic docs recommend for
programmatic use: the connection the caller put in `config.attributes`, else `sqlalchemy.url`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool


def _migrate(connection: Connection) -> None:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url", ""), poolclass=pool.NullPool)
    try:
        with engine.connect() as fresh:
            _migrate(fresh)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("the example migrations run online only")
run_migrations_online()
