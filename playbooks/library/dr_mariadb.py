#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: dump, restore, fingerprint and destroy a MariaDB database (dr-orchestrator)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_mariadb
short_description: Dump, restore, fingerprint and destroy a MariaDB database
description:
  - C(dump) runs mariadb-dump --single-transaction into I(dest); a second session opens its
    consistent snapshot at the same moment (under a brief FLUSH TABLES WITH READ LOCK) and
    fingerprints every table in it.
    The fingerprint is also written next to the dump (I(fingerprint_file)), so a restore can
    check itself on the host before it replaces anything.
  - C(restore) always loads I(src) into a new scratch database first, fingerprints it and
    compares it with I(fingerprint_file). With I(mode=scratch) the scratch database is then
    dropped; with I(mode=replace) (a failover), only if equal, I(database) is dropped and
    recreated, loaded again and compared again (MariaDB cannot rename a database).
  - C(fingerprint) reads the live I(database) in one consistent-snapshot transaction.
  - C(destroy) (a drill's disaster) drops the live I(database) and checks it is gone;
    dr_result C(destroy:<dataset>) says whether it existed.
  - The password, if any, comes from the MYSQL_PWD environment variable the task sets; it is
    never a module argument. I(password_env) only names the controller variable it came from.
options:
  action: {type: str, required: true, choices: [dump, restore, fingerprint, destroy]}
  dataset: {type: str, required: true}
  database: {type: str, required: true}
  host: {type: str, default: 127.0.0.1}
  port: {type: int, default: 3306}
  user: {type: str, default: ""}
  password_env: {type: str, default: ""}
  bin_dir: {type: str, default: ""}
  src: {type: path}
  dest: {type: path}
  fingerprint_file: {type: path}
  mode: {type: str, default: replace, choices: [replace, scratch]}
  scratch_database:
    description: Name of the scratch database a restore makes (default a new C(<database>_dr_<hex>)).
    type: str
    default: ""
  invariants: {type: dict, default: {}}
  algorithm: {type: str, default: sha256}
"""

from ansible.module_utils.dr_dbmodule import DatabaseEngine, run_database_module
from ansible.module_utils.dr_mysql import (
    MariaTarget,
    create_database,
    database_exists,
    destroy,
    drop_database,
    dump,
    fingerprint,
    load,
)
from ansible.module_utils.dr_sqlsession import scratch_name


def put_in_place(target, src, scratch, database):
    """Recreate database and load src into it (MariaDB cannot rename a database); the caller
    checks it again."""
    drop_database(target, database)
    create_database(target, database)
    load(target, src, database)
    return False


ENGINE = DatabaseEngine(
    kind="mariadb",
    default_port=3306,
    target=MariaTarget,
    dump=dump,
    fingerprint=fingerprint,
    database_exists=database_exists,
    create_database=create_database,
    drop_database=drop_database,
    load=load,
    scratch_name=scratch_name,
    put_in_place=put_in_place,
    destroy=destroy,
)


def main():
    run_database_module(ENGINE)


if __name__ == "__main__":
    main()
