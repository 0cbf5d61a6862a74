"""Field encryption at rest (AES-256-GCM) and blind indexes for exact lookups.

An encrypted phone can't be searched by ``=``; ``blind_index`` gives a keyed HMAC of the
normalised value that is stored beside it and indexed, so an exact phone lookup stays one
index probe without ever storing the plain number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "v1:"


class FieldCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("field key must be 32 bytes")
        self._aead = AESGCM(hashlib.sha256(b"crm-aead" + key).digest())
        self._mac_key = hashlib.sha256(b"crm-bidx" + key).digest()

    def __repr__(self) -> str:
        return "FieldCipher(<key hidden>)"

    def encrypt(self, plain: str | None) -> str | None:
        if plain is None or plain == "":
            return None
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, plain.encode(), None)
        return _PREFIX + base64.urlsafe_b64encode(nonce + ct).decode()

    def decrypt(self, token: str | None) -> str | None:
        if not token:
            return None
        if not token.startswith(_PREFIX):
            raise ValueError("not an encrypted field value")
        raw = base64.urlsafe_b64decode(token[len(_PREFIX) :])
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()

    def blind_index(self, normalised: str | None) -> str | None:
        if not normalised:
            return None
        return hmac.new(self._mac_key, normalised.encode(), hashlib.sha256).hexdigest()[:32]
