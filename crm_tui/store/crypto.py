"""Field encryption at rest: AES-GCM with the column name as associated data, plus an
HMAC-SHA256 blind index for exact look-up. Keys live in a 0600 key file or `CRM_KEY`.

Ciphertext format: ``<key id>$<base64(nonce || ciphertext+tag)>``, so rotation can
read old values while writing new ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crm_tui.store.files import write_private


class KeyMaterialError(Exception):
    """The key material is missing, malformed or does not open a value. `code` names the
    case for the user's language (`error.key.<code>` with `params`); the text is for logs."""

    def __init__(self, message: str, *, code: str = "", **params: str) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


def _index_digest(keyed: hmac.HMAC, column: str, plaintext: str) -> str:
    """One blind index. Copying a keyed HMAC skips re-keying: the same digest at about half
    the cost (bulk imports)."""
    mac = keyed.copy()
    mac.update(column.encode() + b"\x00" + plaintext.encode())
    return mac.hexdigest()


@dataclass
class Keyring:
    """Master keys by id; `active` encrypts and indexes, the others only decrypt."""

    keys: dict[str, bytes]
    active: str
    # The audit chain's MAC key. It outlives key rotation (old events stay verifiable), so it
    # is its own key in the file; a key file from before issue 7 derives it from its active key.
    audit: bytes | None = field(default=None, repr=False)
    _aead: dict[str, AESGCM] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise KeyMaterialError(f"active key {self.active!r} is not in the key ring")
        for kid, master in self.keys.items():
            if len(master) != 32:
                raise KeyMaterialError(f"key {kid!r} must be 32 bytes")
            self._aead[kid] = AESGCM(_derive(master, b"crm-tui field encryption"))
        if self.audit is None:
            self.audit = _derive(self.keys[self.active], b"crm-tui audit chain")
        elif len(self.audit) != 32:
            raise KeyMaterialError("the audit key must be 32 bytes")
        # One keyed HMAC per key, derived once: the active one indexes, and during an unfinished
        # rotation look-ups try them all (`blind_indexes`).
        self._index_macs = {kid: hmac.new(_derive(master, b"crm-tui blind index"),
                                          digestmod=hashlib.sha256)
                            for kid, master in self.keys.items()}
        self._index_mac = self._index_macs[self.active]

    def __reduce__(self) -> tuple[type[Keyring], tuple[dict[str, bytes], str]]:
        """Pickled as its key material (the ciphers are rebuilt): importer workers started
        with forkserver receive it over a local pipe instead of inheriting it by fork."""
        return (Keyring, (self.keys, self.active))

    @classmethod
    def generate(cls) -> Keyring:
        kid = "k" + secrets.token_hex(4)
        return cls({kid: AESGCM.generate_key(bit_length=256)}, kid, secrets.token_bytes(32))

    @property
    def audit_key(self) -> bytes:
        assert self.audit is not None
        return self.audit

    @property
    def audit_key_id(self) -> str:
        """A short public fingerprint naming the audit key (shown when the wrong one is given)."""
        return "a" + hashlib.sha256(b"crm-tui audit key id" + self.audit_key).hexdigest()[:10]

    def with_keys(self, keys: dict[str, bytes], active: str) -> Keyring:
        """Another set of field keys, the same audit key (rotation keeps the chain verifiable)."""
        return Keyring(keys, active, self.audit_key)

    def encrypt(self, column: str, plaintext: str | None) -> str | None:
        if plaintext is None or plaintext == "":
            return None
        nonce = os.urandom(12)
        ct = self._aead[self.active].encrypt(nonce, plaintext.encode(), column.encode())
        return f"{self.active}${base64.b64encode(nonce + ct).decode()}"

    def decrypt(self, column: str, token: str | None) -> str | None:
        if not token:
            return None
        kid, _, body = token.partition("$")
        aead = self._aead.get(kid)
        if aead is None:
            raise KeyMaterialError(f"value was encrypted with key {kid!r}, which is not loaded")
        raw = base64.b64decode(body)
        try:
            return aead.decrypt(raw[:12], raw[12:], column.encode()).decode()
        except Exception as exc:  # InvalidTag: wrong key or tampered value
            raise KeyMaterialError(f"cannot decrypt {column}: value tampered or wrong key") from exc

    def blind_index(self, column: str, plaintext: str | None) -> str | None:
        if plaintext is None or plaintext == "":
            return None
        return _index_digest(self._index_mac, column, plaintext)

    def blind_indexes(self, column: str, plaintext: str | None) -> list[str]:
        """The value's blind index under every loaded key: while a rotation is unfinished a
        stored row may still carry the old key's, so a duplicate check must try them all."""
        if plaintext is None or plaintext == "":
            return []
        return [_index_digest(mac, column, plaintext) for mac in self._index_macs.values()]

    def key_id(self, token: str | None) -> str | None:
        return token.partition("$")[0] if token else None

    # -- persistence -------------------------------------------------------------------

    def to_json(self) -> str:
        return json.dumps(
            {
                "active": self.active,
                "keys": {k: base64.b64encode(v).decode() for k, v in self.keys.items()},
                "audit": base64.b64encode(self.audit_key).decode(),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        try:
            data = json.loads(text)
            keys = {k: base64.b64decode(v) for k, v in data["keys"].items()}
            audit = base64.b64decode(data["audit"]) if data.get("audit") else None
            return cls(keys, data["active"], audit)
        except KeyMaterialError:
            raise
        except Exception as exc:
            raise KeyMaterialError(f"key file is malformed: {exc}", code="malformed") from exc

    @classmethod
    def from_env_value(cls, value: str) -> Keyring:
        """`CRM_KEY` holds either a key-file JSON or one base64 32-byte key."""
        value = value.strip()
        if value.startswith("{"):
            return cls.from_json(value)
        try:
            raw = base64.b64decode(value, validate=True)
        except Exception as exc:
            raise KeyMaterialError("CRM_KEY is not base64", code="env_not_base64") from exc
        return cls({"env": raw}, "env")


def write_key_file(path: Path, ring: Keyring) -> None:
    """Write atomically with 0600 rights (a new O_EXCL|O_NOFOLLOW temp file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(path, ring.to_json().encode())


def check_key_file_rights(key_file: Path) -> None:
    """A key file that group or others may read (or write) is refused: it is the whole secret."""
    st = key_file.stat()
    if st.st_mode & 0o077:
        raise KeyMaterialError(
            f"key file {key_file} is readable by other users (mode {st.st_mode & 0o777:o}); "
            f"run `chmod 600 {key_file}` and try again",
            code="open_rights", key_file=str(key_file), mode=f"{st.st_mode & 0o777:o}")


def load_keyring(key_file: Path, *, create: bool = False, env_key: str | None = None) -> Keyring:
    """The key ring from `env_key` (CRM_KEY, passed in by the caller's Settings), else the key
    file, else (with `create`) a new one written to the key file."""
    if env_key:
        return Keyring.from_env_value(env_key)
    if key_file.exists():
        check_key_file_rights(key_file)
        return Keyring.from_json(key_file.read_text())
    if not create:
        raise KeyMaterialError(f"no encryption key: {key_file} does not exist (run `crm init`) "
                               "and CRM_KEY is not set", code="missing", key_file=str(key_file))
    ring = Keyring.generate()
    write_key_file(key_file, ring)
    return ring
