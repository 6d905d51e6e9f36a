#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: list and hash the artifact files of a dump, on the source host."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_artifacts
short_description: Hash every artifact file of a dump where it was made
version_added: 0.1.0
description:
  - Returns the relative path, size and digest of every regular file under I(path), and the
    digest of each I(chunk_bytes) chunk of a larger file. These go into the recovery point's
    manifest; every later copy, transfer and restore is compared against them.
  - Reads only; fails when I(path) holds a symbolic link or no file at all. Check mode runs
    the same way.
  - Given I(known), the entries the dump computed while it wrote the files (the C(dump)
    result of M(dr.orchestrator.dr_files)), the files are not read again; the entries are
    returned when they name exactly the files under I(path), with their sizes, and were
    hashed with I(algorithm) in chunks of I(chunk_bytes); otherwise every file is hashed.
options:
  dataset:
    description: Dataset name; it names the result, C(artifacts:<dataset>).
    type: str
    required: true
  path:
    description: Directory holding the dump's files.
    type: path
    required: true
  algorithm:
    description: hashlib algorithm of the digests.
    type: str
    default: sha256
  chunk_bytes:
    description: Files larger than this are also hashed in chunks of this many bytes.
    type: int
    default: 67108864
  known:
    description: The C(dr_result) of the dump that wrote I(path) while hashing it, with
      C(name) (C(dump:<dataset>)), C(files), C(chunk_bytes) and C(fingerprint.algorithm).
      Used only when all of these agree with this call and the files under I(path).
    type: dict
attributes:
  check_mode:
    description: Reads only, so check mode does what a real run does.
    support: full
  diff_mode:
    description: No diff is produced.
    support: none
author:
  - dr-orchestrator maintainers
"""

EXAMPLES = r"""
- name: Hash the files of the ledger's dump in the spool
  dr.orchestrator.dr_artifacts:
    dataset: ledger
    path: /var/spool/dr/backup-core-banking/ledger/data
"""

RETURN = r"""
dr_result:
  description: The artifacts of the dump, for dr-orchestrator's manifest.
  returned: success
  type: dict
  contains:
    name:
      description: C(artifacts:<dataset>).
      type: str
      returned: always
      sample: artifacts:ledger
    algorithm:
      description: The hashlib algorithm used.
      type: str
      returned: always
      sample: sha256
    files:
      description: One entry per file, sorted by path - C(path) (relative to I(path)),
        C(size), C(digest), and C(chunk_digests) (one per chunk) for a file larger than
        I(chunk_bytes).
      type: list
      elements: dict
      returned: always
      sample: [{path: ledger.db, size: 5406720, digest: 0c4f...}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dr.orchestrator.plugins.module_utils.dr_steps import (
    StepFailed,
    artifacts_step,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dataset=dict(type="str", required=True),
            path=dict(type="path", required=True),
            algorithm=dict(type="str", default="sha256"),
            chunk_bytes=dict(type="int", default=64 << 20),
            known=dict(type="dict"),
        ),
        supports_check_mode=True,
    )
    try:
        outcome = artifacts_step(module.params)
    except StepFailed as error:
        module.fail_json(msg=str(error))
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
