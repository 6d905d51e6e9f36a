# -*- coding: utf-8 -*-
"""The database engines of dr_postgresql, dr_mariadb and dr_datasets: each a DatabaseEngine
(dr_dbmodule) made of its dr_pgsql or dr_mysql functions. Standard library only."""

from __future__ import annotations

from ansible_collections.dr.orchestrator.plugins.module_utils import dr_mysql, dr_pgsql
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_dbmodule import DatabaseEngine
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_sqlsession import scratch_name


def pg_put_in_place(target, src, scratch, database):
    """Rename the checked scratch database to database (PostgreSQL can rename)."""
    dr_pgsql.swap_in(target, scratch, database)
    return True


def maria_put_in_place(target, src, scratch, database):
    """Recreate database and load src into it (MariaDB cannot rename a database); the caller
    checks it again."""
    dr_mysql.drop_database(target, database)
    dr_mysql.create_database(target, database)
    dr_mysql.load(target, src, database)
    return False


POSTGRESQL = DatabaseEngine(
    kind="postgresql",
    default_port=5432,
    target=dr_pgsql.PgTarget,
    dump=dr_pgsql.dump,
    fingerprint=dr_pgsql.fingerprint,
    database_exists=dr_pgsql.database_exists,
    create_database=dr_pgsql.create_database,
    drop_database=dr_pgsql.drop_database,
    load=dr_pgsql.pg_restore,
    scratch_name=dr_pgsql.scratch_name,
    put_in_place=pg_put_in_place,
    destroy=dr_pgsql.destroy,
)

MARIADB = DatabaseEngine(
    kind="mariadb",
    default_port=3306,
    target=dr_mysql.MariaTarget,
    dump=dr_mysql.dump,
    fingerprint=dr_mysql.fingerprint,
    database_exists=dr_mysql.database_exists,
    create_database=dr_mysql.create_database,
    drop_database=dr_mysql.drop_database,
    load=dr_mysql.load,
    scratch_name=scratch_name,
    put_in_place=maria_put_in_place,
    destroy=dr_mysql.destroy,
)
