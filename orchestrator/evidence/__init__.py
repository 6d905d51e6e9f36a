"""Evidence packages: signed, hash-chained, bilingual records an auditor checks offline.

`package.write_package` writes one, `package.verify_package` (or `verify.verify_package`)
checks one, `sign` holds the ed25519 key handling and `render` the report.html page. The
layout and the offline recipe are in DESIGN §3 and docs/auditor-guide.md.
"""
