"""Encryption at rest for a generated password waiting for the requester's one reveal."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from core.config.secrets import SecretValue


class Vault:
    def __init__(self, key: SecretValue) -> None:
        self._fernet = Fernet(key.reveal().encode())

    def seal(self, secret: SecretValue) -> str:
        return self._fernet.encrypt(secret.reveal().encode()).decode()

    def open(self, ciphertext: str) -> SecretValue:
        try:
            return SecretValue(self._fernet.decrypt(ciphertext.encode()).decode())
        except InvalidToken:
            raise ValueError("the stored password cannot be decrypted with this key") from None
