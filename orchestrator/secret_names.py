"""Which names say they hold a secret: the one list drctl masks by (subprocess arguments and
environment, ansible-runner events) and refuses evidence by, and the wider one that keeps an
environment variable away from a playbook run.

The name is lower-cased with everything but letters and digits removed before matching, so
"Secret-Access-Key", "private_key", "DB_PASSWORD" and "apiToken" are all caught, and "keys"
or "manifest_sha256" are not.
"""

from __future__ import annotations

import re

SECRET_NAME_PATTERN = re.compile(r"password|passwd|passphrase|secret|token|privatekey|accesskey")
# Environment variable names a playbook run never inherits: wider than the masking list (any
# PASS…, CREDENTIAL, PRIVATE, a trailing _PW/_PWD), since dropping one too many costs nothing.
SECRET_VARIABLE_PATTERN = re.compile(
    r"PASS|SECRET|TOKEN|CREDENTIAL|PRIVATE|ACCESS_KEY|_PWD?$", re.IGNORECASE
)
MASK = "***"


def is_secret_name(name: str) -> bool:
    """Given a key, option or variable name, return whether it names a secret."""
    return SECRET_NAME_PATTERN.search(re.sub(r"[^a-z0-9]", "", name.lower())) is not None


def is_secret_variable(name: str) -> bool:
    """Given an environment variable name, return whether a playbook run must not see it."""
    return is_secret_name(name) or SECRET_VARIABLE_PATTERN.search(name) is not None
