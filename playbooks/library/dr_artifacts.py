#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: list and hash the artifact files of a dump, on the source host."""

from __future__ import annotations

DOCUMENTATION = r"""
module: dr_artifacts
short_description: Hash every artifact file of a dump where it was made
description:
  - Returns path, size, digest (and per-chunk digests for large files) of every regular file
    under I(path); these go into the recovery point's manifest and every later step is
    compared against them.
options:
  dataset: {type: str, required: true}
  path: {type: path, required: true}
  algorithm: {type: str, default: sha256}
  chunk_bytes: {type: int, default: 67108864}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.dr_hashing import digest_tree


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dataset=dict(type="str", required=True),
            path=dict(type="path", required=True),
            algorithm=dict(type="str", default="sha256"),
            chunk_bytes=dict(type="int", default=64 << 20),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        files = digest_tree(params["path"], params["algorithm"], params["chunk_bytes"])
    except (OSError, ValueError) as error:
        module.fail_json(msg="hashing %s failed: %s" % (params["path"], error))
    if not files:
        module.fail_json(msg="dump of %s produced no files" % params["dataset"])
    module.exit_json(
        changed=False,
        dr_result={
            "name": "artifacts:%s" % params["dataset"],
            "files": files,
            "algorithm": params["algorithm"],
        },
    )


if __name__ == "__main__":
    main()
