"""What dr.yml may say about encryption at rest: the site's `encryption` block.

Absent, recovery points are written in clear (configs written before encryption existed keep
working); present, every new recovery point is sealed with a fresh data key wrapped by the
key-encryption key named here (orchestrator.integrations.envelope, docs/keys.md).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from orchestrator.model.config_model import ConfigModel

_Model = ConfigModel


class KeyEncryptionKeySettings(_Model):
    """Where the key-encryption key is: a file (the form drctl implements; PKCS#11 and KMS
    are the same interface, docs/keys.md)."""

    file: str = Field(
        description="64 hex characters (32 bytes) in a file of mode 0600, outside every store; "
        "`drctl keys create-kek` makes one",
        examples=["keys/kek.hex"],
    )


class EncryptionSettings(_Model):
    """Client-side envelope encryption of every new recovery point."""

    cipher: Literal["aes-256-gcm", "sm4-gcm"] = Field(
        default="aes-256-gcm", description="AEAD of the data (sm4-gcm: GB/T 32907)"
    )
    key_encryption_key: KeyEncryptionKeySettings
