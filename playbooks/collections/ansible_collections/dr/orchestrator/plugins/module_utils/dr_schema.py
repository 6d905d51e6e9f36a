# -*- coding: utf-8 -*-
"""A digest of a live database's schema objects, by kind: what a drill compares of production
before and after beside the rows (dr_datasets fingerprint with schema=true).

Standard library only. The row fingerprint (dr_pgsql, dr_mysql) covers table rows only, and
backups and restores compare it alone: a restored database legitimately differs in owners and
grants. This reads, per kind, one line per object from the catalogs - definitions, owners and
privileges, never OIDs, statistics, sizes or sequence values - sorts the lines and digests them.
Equal digests of one kind mean the same objects with the same definitions.

PostgreSQL (user schemas): schemas, relations (kind, owner, persistence, options), columns
(type, not null, default, identity, generated, collation), indexes (pg_indexes.indexdef),
views and materialized views (their definitions), functions and procedures (signature,
result, language, source, volatility, security, owner), sequences (type and parameters),
constraints, triggers, types (domains, enums, ranges), policies, extensions, and privileges
(datacl, nspacl, relacl, attacl, proacl, typacl, default privileges).

MariaDB (information_schema, the database only): tables, columns, indexes, views, routines
and their parameters, triggers, events, constraints (with foreign keys' columns) and
privileges (USER_ (global), SCHEMA_, TABLE_ and COLUMN_PRIVILEGES - as far as the login user
may see them: its own grants, or every grant when it may read the mysql database).
"""

from __future__ import annotations

import json

from ansible_collections.dr.orchestrator.plugins.module_utils.dr_sqlsession import new_hash

PG_USER_SCHEMA = (
    "{n}.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND {n}.nspname NOT LIKE 'pg\\_toast%' AND {n}.nspname NOT LIKE 'pg\\_temp%'"
)
PG_N = PG_USER_SCHEMA.format(n="n")
PG_JOIN_CLASS = "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
PG_QUERIES = {
    "schemas": [
        "SELECT json_build_array(n.nspname, pg_get_userbyid(n.nspowner))::text "
        "FROM pg_namespace n WHERE %s" % PG_N
    ],
    "relations": [
        "SELECT json_build_array(n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), "
        "c.relpersistence, c.reloptions::text, c.relrowsecurity)::text FROM %s "
        "WHERE c.relkind <> 't' AND %s" % (PG_JOIN_CLASS, PG_N)
    ],
    "columns": [
        "SELECT json_build_array(n.nspname, c.relname, a.attname, "
        "format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid), "
        "a.attidentity, a.attgenerated, co.collname)::text "
        "FROM pg_attribute a JOIN %s ON c.oid = a.attrelid "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "LEFT JOIN pg_collation co ON co.oid = a.attcollation "
        "WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') "
        "AND %s" % (PG_JOIN_CLASS, PG_N)
    ],
    "indexes": [
        "SELECT json_build_array(schemaname, tablename, indexname, indexdef)::text "
        "FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema') "
        "AND schemaname NOT LIKE 'pg\\_toast%' AND schemaname NOT LIKE 'pg\\_temp%'"
    ],
    "views": [
        "SELECT json_build_array(n.nspname, c.relname, c.relkind, pg_get_viewdef(c.oid))::text "
        "FROM %s WHERE c.relkind IN ('v', 'm') AND %s" % (PG_JOIN_CLASS, PG_N)
    ],
    "functions": [
        "SELECT json_build_array(n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), "
        "pg_get_function_result(p.oid), p.prokind, l.lanname, p.prosrc, p.provolatile, "
        "p.prosecdef, p.proconfig::text, pg_get_userbyid(p.proowner))::text "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "JOIN pg_language l ON l.oid = p.prolang WHERE %s" % PG_N
    ],
    "sequences": [
        "SELECT json_build_array(n.nspname, c.relname, format_type(s.seqtypid, NULL), "
        "s.seqstart, s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle)::text "
        "FROM pg_sequence s JOIN %s ON c.oid = s.seqrelid WHERE %s" % (PG_JOIN_CLASS, PG_N)
    ],
    "constraints": [
        "SELECT json_build_array(n.nspname, k.conname, cl.relname, t.typname, k.contype, "
        "pg_get_constraintdef(k.oid))::text FROM pg_constraint k "
        "JOIN pg_namespace n ON n.oid = k.connamespace "
        "LEFT JOIN pg_class cl ON cl.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid "
        "WHERE %s" % PG_N
    ],
    "triggers": [
        "SELECT json_build_array(n.nspname, c.relname, g.tgname, pg_get_triggerdef(g.oid), "
        "g.tgenabled)::text FROM pg_trigger g JOIN %s ON c.oid = g.tgrelid "
        "WHERE NOT g.tgisinternal AND %s" % (PG_JOIN_CLASS, PG_N)
    ],
    "types": [
        "SELECT json_build_array(n.nspname, t.typname, t.typtype, "
        "format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault, "
        "pg_get_userbyid(t.typowner), (SELECT string_agg(e.enumlabel, ',' ORDER BY "
        "e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid))::text "
        "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE t.typtype IN ('d', 'e', 'r', 'm') AND %s" % PG_N
    ],
    "policies": [
        "SELECT json_build_array(n.nspname, c.relname, p.polname, p.polcmd, p.polpermissive, "
        "p.polroles::regrole[]::text, pg_get_expr(p.polqual, p.polrelid), "
        "pg_get_expr(p.polwithcheck, p.polrelid))::text "
        "FROM pg_policy p JOIN %s ON c.oid = p.polrelid WHERE %s" % (PG_JOIN_CLASS, PG_N)
    ],
    "extensions": [
        "SELECT json_build_array(x.extname, x.extversion, n.nspname)::text "
        "FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace"
    ],
    "privileges": [
        "SELECT json_build_array('database', datacl::text)::text FROM pg_database "
        "WHERE datname = current_database()",
        "SELECT json_build_array('schema', n.nspname, n.nspacl::text)::text "
        "FROM pg_namespace n WHERE %s" % PG_N,
        "SELECT json_build_array('relation', n.nspname, c.relname, c.relacl::text)::text "
        "FROM %s WHERE c.relkind <> 't' AND %s" % (PG_JOIN_CLASS, PG_N),
        "SELECT json_build_array('column', n.nspname, c.relname, a.attname, a.attacl::text)::text "
        "FROM pg_attribute a JOIN %s ON c.oid = a.attrelid "
        "WHERE a.attacl IS NOT NULL AND %s" % (PG_JOIN_CLASS, PG_N),
        "SELECT json_build_array('function', n.nspname, p.proname, "
        "pg_get_function_identity_arguments(p.oid), p.proacl::text)::text "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE %s" % PG_N,
        "SELECT json_build_array('type', n.nspname, t.typname, t.typacl::text)::text "
        "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE t.typacl IS NOT NULL AND %s" % PG_N,
        "SELECT json_build_array('default', pg_get_userbyid(d.defaclrole), n.nspname, "
        "d.defaclobjtype, d.defaclacl::text)::text FROM pg_default_acl d "
        "LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace",
    ],
}

MARIA_IS = "information_schema"
MARIADB_QUERIES = {
    "tables": [
        "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, CREATE_OPTIONS, TABLE_COMMENT "
        "FROM %s.TABLES WHERE TABLE_SCHEMA = DATABASE()" % MARIA_IS
    ],
    "columns": [
        "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, "
        "COLUMN_DEFAULT, EXTRA, CHARACTER_SET_NAME, COLLATION_NAME, GENERATION_EXPRESSION "
        "FROM %s.COLUMNS WHERE TABLE_SCHEMA = DATABASE()" % MARIA_IS
    ],
    "indexes": [
        "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE, SUB_PART, "
        "INDEX_TYPE, COLLATION FROM %s.STATISTICS WHERE TABLE_SCHEMA = DATABASE()" % MARIA_IS
    ],
    "views": [
        "SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION, SECURITY_TYPE, DEFINER, ALGORITHM "
        "FROM %s.VIEWS WHERE TABLE_SCHEMA = DATABASE()" % MARIA_IS
    ],
    "routines": [
        "SELECT ROUTINE_NAME, ROUTINE_TYPE, DTD_IDENTIFIER, ROUTINE_DEFINITION, SECURITY_TYPE, "
        "DEFINER, SQL_DATA_ACCESS, IS_DETERMINISTIC, SQL_MODE "
        "FROM %s.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()" % MARIA_IS,
        "SELECT 'parameter', SPECIFIC_NAME, ROUTINE_TYPE, ORDINAL_POSITION, PARAMETER_MODE, "
        "PARAMETER_NAME, DTD_IDENTIFIER FROM %s.PARAMETERS "
        "WHERE SPECIFIC_SCHEMA = DATABASE()" % MARIA_IS,
    ],
    "triggers": [
        "SELECT TRIGGER_NAME, EVENT_MANIPULATION, EVENT_OBJECT_TABLE, ACTION_TIMING, "
        "ACTION_ORDER, ACTION_STATEMENT, DEFINER, SQL_MODE "
        "FROM %s.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()" % MARIA_IS
    ],
    "events": [
        "SELECT EVENT_NAME, DEFINER, EVENT_DEFINITION, EVENT_TYPE, INTERVAL_VALUE, "
        "INTERVAL_FIELD, STATUS FROM %s.EVENTS WHERE EVENT_SCHEMA = DATABASE()" % MARIA_IS
    ],
    "constraints": [
        "SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE "
        "FROM %s.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()" % MARIA_IS,
        "SELECT 'check', TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE "
        "FROM %s.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()" % MARIA_IS,
        "SELECT 'references', TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME, "
        "UNIQUE_CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE "
        "FROM %s.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()" % MARIA_IS,
        "SELECT 'key', TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, ORDINAL_POSITION, "
        "REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME "
        "FROM %s.KEY_COLUMN_USAGE WHERE CONSTRAINT_SCHEMA = DATABASE()" % MARIA_IS,
    ],
    "privileges": [
        "SELECT 'database', GRANTEE, PRIVILEGE_TYPE, IS_GRANTABLE "
        "FROM %s.SCHEMA_PRIVILEGES WHERE TABLE_SCHEMA = DATABASE()" % MARIA_IS,
        "SELECT 'table', GRANTEE, TABLE_NAME, PRIVILEGE_TYPE, IS_GRANTABLE "
        "FROM %s.TABLE_PRIVILEGES WHERE TABLE_SCHEMA = DATABASE()" % MARIA_IS,
        "SELECT 'column', GRANTEE, TABLE_NAME, COLUMN_NAME, PRIVILEGE_TYPE, IS_GRANTABLE "
        "FROM %s.COLUMN_PRIVILEGES WHERE TABLE_SCHEMA = DATABASE()" % MARIA_IS,
        # global grants apply to this database too
        "SELECT 'global', GRANTEE, PRIVILEGE_TYPE, IS_GRANTABLE FROM %s.USER_PRIVILEGES" % MARIA_IS,
    ],
}
QUERIES = {"postgresql": PG_QUERIES, "mariadb": MARIADB_QUERIES}


def schema_digest(kind, target, database, algorithm):
    """Given an engine kind and a target, return the digest of database's schema objects:
    {"algorithm", "digest", "kinds": {kind: {"objects": n, "digest": d}}}, each kind's lines
    read in one session, sorted, and hashed (newline-separated)."""
    session = target.session(database)
    kinds = {}
    try:
        for name, queries in sorted(QUERIES[kind].items()):
            lines = []
            for query in queries:
                session.send(query + ";\n" + target.marker_statement())
                lines.extend(session.collect(target.MARKER))
            lines.sort()
            digest = new_hash(algorithm)
            digest.update("\n".join(lines).encode("utf-8"))
            kinds[name] = {"objects": len(lines), "digest": digest.hexdigest()}
        session.finish()
    except Exception:
        session.abort()
        raise
    whole = new_hash(algorithm)
    whole.update(json.dumps(kinds, sort_keys=True).encode("utf-8"))
    return {"algorithm": algorithm, "digest": whole.hexdigest(), "kinds": kinds}
