#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: snapshot, restore and fingerprint a directory tree (dr-orchestrator)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_files
short_description: Snapshot, restore and fingerprint a directory tree
version_added: 0.1.0
description:
  - C(dump) copies the regular files of the tree at I(src) into I(dest); a symbolic link or
    any other special file makes it fail.
  - C(restore) copies I(src) beside I(dest) (C(<dest>.restoring)), then swaps the two
    directories by rename, so I(dest) is either the old tree or the whole new one.
  - C(fingerprint) reads I(path) and touches nothing.
  - Every action returns the tree's fingerprint - file count, bytes and the digest of its
    listing (path, size and digest of each file) - so a copy can be compared with its source.
  - C(dump) hashes each file as it copies it (one read of the source serves the copy and
    its digests, files in parallel) and also returns the copy's file entries, which
    M(dr.orchestrator.dr_artifacts) takes as I(known) instead of reading the copy again.
  - In check mode C(dump) and C(restore) check their source is a directory and report a
    change without writing anything; C(fingerprint) runs as usual.
options:
  action:
    description: What to do.
    type: str
    required: true
    choices: [dump, restore, fingerprint]
  dataset:
    description: Dataset name; it names the result, C(<action>:<dataset>).
    type: str
    required: true
  src:
    description: Tree to copy from; required by C(dump) and C(restore).
    type: path
  dest:
    description: Tree to copy to (C(dump)) or to replace (C(restore)); required by both.
    type: path
  path:
    description: Tree to fingerprint; required by C(fingerprint).
    type: path
  algorithm:
    description: hashlib algorithm of the file and listing digests.
    type: str
    default: sha256
attributes:
  check_mode:
    description: C(dump) and C(restore) write nothing and report a change; C(fingerprint)
      only reads.
    support: full
  diff_mode:
    description: No diff is produced.
    support: none
author:
  - dr-orchestrator maintainers
"""

EXAMPLES = r"""
- name: Snapshot the configuration tree into the spool
  dr.orchestrator.dr_files:
    action: dump
    dataset: config
    src: /srv/app/config
    dest: /var/spool/dr/backup-core-banking/config/data

- name: Put the restored tree in place
  dr.orchestrator.dr_files:
    action: restore
    dataset: config
    src: /var/spool/dr/restore-core-banking/config/data
    dest: /srv/app/config

- name: Fingerprint the live tree
  dr.orchestrator.dr_files:
    action: fingerprint
    dataset: config
    path: /srv/app/config
  register: config_fingerprint
"""

RETURN = r"""
msg:
  description: What a real run would do.
  returned: check mode, for dump and restore
  type: str
  sample: would replace /srv/app/config with the 12 files of /var/spool/dr/restore/config/data
dr_result:
  description: The tree's fingerprint, for dr-orchestrator.
  returned: success, except dump and restore in check mode
  type: dict
  contains:
    name:
      description: C(<action>:<dataset>).
      type: str
      returned: always
      sample: fingerprint:config
    exists:
      description: Whether the tree exists; false only for C(fingerprint) of a missing tree.
      type: bool
      returned: always
      sample: true
    fingerprint:
      description: C(kind) C(files), C(algorithm), and C(objects.tree) with C(files),
        C(bytes) and C(digest) (the listing's digest). C(objects) is empty for a missing tree.
      type: dict
      returned: always
      sample:
        kind: files
        algorithm: sha256
        objects:
          tree: {files: 12, bytes: 48213, digest: 9f2c...}
    files:
      description: C(dump) only - the copy's file entries as M(dr.orchestrator.dr_artifacts)
        returns them (C(path), C(size), C(digest), C(chunk_digests) above I(chunk_bytes)).
      type: list
      elements: dict
      returned: dump, except in check mode
      sample: [{path: app.conf, size: 812, digest: 0c4f...}]
    chunk_bytes:
      description: C(dump) only - the chunk size of C(files)' chunk digests.
      type: int
      returned: dump, except in check mode
      sample: 67108864
    invariants:
      description: Always empty; a tree has no invariant queries.
      type: dict
      returned: always
      sample: {}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_steps import (
    StepFailed,
    files_step,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", required=True, choices=["dump", "restore", "fingerprint"]),
            dataset=dict(type="str", required=True),
            src=dict(type="path"),
            dest=dict(type="path"),
            path=dict(type="path"),
            algorithm=dict(type="str", default="sha256"),
        ),
        required_if=[
            ("action", "dump", ["src", "dest"]),
            ("action", "restore", ["src", "dest"]),
            ("action", "fingerprint", ["path"]),
        ],
        supports_check_mode=True,
    )
    try:
        outcome = files_step(module.params, module.check_mode)
    except StepFailed as error:
        module.fail_json(msg=str(error))
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
