#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: dump, restore, fingerprint and destroy a PostgreSQL database (dr-orchestrator)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_postgresql
short_description: Dump, restore, fingerprint and destroy a PostgreSQL database
description:
  - C(dump) runs pg_dump -Fc into I(dest) from a snapshot exported by a REPEATABLE READ
    session, which fingerprints every table inside that same snapshot while the dump runs.
    The fingerprint is also written next to the dump (I(fingerprint_file)), so a restore can
    check itself on the host before it replaces anything.
  - C(restore) always restores I(src) with pg_restore into a new scratch database first and
    fingerprints it. With I(mode=scratch) the scratch database is then dropped; with
    I(mode=replace) (a failover) it is compared with I(fingerprint_file) and, only if equal,
    renamed to I(database) (an existing database of that name is renamed away and dropped).
  - C(fingerprint) reads the live I(database) in one REPEATABLE READ transaction.
  - C(destroy) (a drill's disaster) ends every other session on the live I(database), drops
    it and checks it is gone; dr_result C(destroy:<dataset>) says whether it existed.
  - The password, if any, comes from the PGPASSWORD environment variable the task sets; it is
    never a module argument. I(password_env) only names the controller variable it came from.
options:
  action: {type: str, required: true, choices: [dump, restore, fingerprint, destroy]}
  dataset: {type: str, required: true}
  database: {type: str, required: true}
  host: {type: str, default: 127.0.0.1}
  port: {type: int, default: 5432}
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
from ansible.module_utils.dr_pgsql import (
    PgTarget,
    create_database,
    database_exists,
    destroy,
    drop_database,
    dump,
    fingerprint,
    pg_restore,
    scratch_name,
    swap_in,
)


def put_in_place(target, src, scratch, database):
    """Rename the checked scratch database to database (PostgreSQL can rename)."""
    swap_in(target, scratch, database)
    return True


ENGINE = DatabaseEngine(
    kind="postgresql",
    default_port=5432,
    target=PgTarget,
    dump=dump,
    fingerprint=fingerprint,
    database_exists=database_exists,
    create_database=create_database,
    drop_database=drop_database,
    load=pg_restore,
    scratch_name=scratch_name,
    put_in_place=put_in_place,
    destroy=destroy,
)


def main():
    run_database_module(ENGINE)


if __name__ == "__main__":
    main()
