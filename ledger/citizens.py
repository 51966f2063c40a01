"""The citizen register: CPR number and name, kept apart from the events.

Personal data rule (architecture section 8): events and logs never carry a
citizen's CPR number or name. Events refer to a citizen by a pseudonymous
:data:`CitizenId` (a random UUID); the register maps that id to the CPR
number and name, encrypted at rest. Erasing a citizen's personal data deletes
the register row and leaves the event history intact, now pointing at an id
that resolves to nothing.

The register finds a CPR number it already holds by a keyed hash
(HMAC-SHA256) of the number, never by the plaintext, so storage holds only
ciphertext and hashes. :class:`EncryptedCitizenRegister` implements the
behaviour once over four small storage primitives; the in-memory register
here and the SQL registers in ``adapters.citizen_store`` only store rows, so
they behave identically.

This module imports only the standard library and ``eventsourcing``.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import threading
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Protocol, TypeAlias
from uuid import UUID

from eventsourcing.cipher import AESCipher
from eventsourcing.utils import Environment

from ledger.errors import CitizenNotFound, InvalidValue
from ledger.identifiers import validate_cpr

CitizenId: TypeAlias = UUID
"""A pseudonymous citizen id: a random UUID that reveals nothing about the person."""

_REDACTED = "<redacted>"
_LOOKUP_KEY_LABEL = b"kontraktledger/citizen-register/cpr-lookup/v1"
_KEY_BYTES = 32


def new_citizen_id() -> CitizenId:
    """Return a fresh random (version 4) pseudonymous citizen id."""
    return uuid.uuid4()


@dataclass(frozen=True, repr=False)
class CitizenRecord:
    """A citizen's personal data as held by the register.

    ``cpr`` is the compact 10-digit form. The repr masks ``cpr`` and ``name``
    so that a record printed to a log or a traceback does not leak them.
    """

    citizen_id: CitizenId
    cpr: str
    name: str

    def __repr__(self) -> str:
        """Show the id only; CPR number and name are masked."""
        return (
            f"CitizenRecord(citizen_id={self.citizen_id!r}, cpr={_REDACTED!r}, name={_REDACTED!r})"
        )


@dataclass(frozen=True, repr=False)
class EncryptedCitizenRow:
    """One stored register row: what a storage backend actually keeps.

    ``cpr_hash`` is :meth:`CitizenCipher.lookup_hash` of the CPR number; the
    two ciphertexts are :meth:`CitizenCipher.encrypt` of the compact CPR
    number and the name.
    """

    citizen_id: CitizenId
    cpr_hash: str
    cpr_encrypted: bytes
    name_encrypted: bytes

    def __repr__(self) -> str:
        """Show the id only; hash and ciphertexts are of no use in a log."""
        return f"EncryptedCitizenRow(citizen_id={self.citizen_id!r}, ...)"


class CitizenCipher:
    """Encrypts the register's personal data and hashes CPR numbers for lookup.

    Wraps the event library's AES-256-GCM :class:`~eventsourcing.cipher.AESCipher`
    (random 96-bit nonce per message, so equal plaintexts give different
    ciphertexts). Lookup hashes use HMAC-SHA256 under a key derived from the
    cipher key with a fixed label, so the encryption key itself is never used
    as a MAC key and one configured secret serves both purposes.
    """

    def __init__(self, key: str) -> None:
        """Create the cipher from a base64 key of 32 bytes (see :meth:`create_key`).

        Raises ``ValueError`` if the key is not base64 or not 32 bytes long;
        the message never contains the key.
        """
        try:
            raw = binascii.a2b_base64(key.encode("ascii"), strict_mode=True)
        except (binascii.Error, UnicodeEncodeError, AttributeError):
            raise ValueError("The citizen cipher key must be base64") from None
        if len(raw) != _KEY_BYTES:
            msg = f"The citizen cipher key must be {_KEY_BYTES} bytes (base64)"
            raise ValueError(msg)
        environment = Environment(env={AESCipher.CIPHER_KEY: key})
        self._aes = AESCipher(environment)
        self._lookup_key = hmac.new(raw, _LOOKUP_KEY_LABEL, hashlib.sha256).digest()

    @staticmethod
    def create_key() -> str:
        """Return a new random 32-byte key, base64 encoded."""
        return AESCipher.create_key(_KEY_BYTES)

    def encrypt(self, plaintext: str) -> bytes:
        """Return the AES-GCM ciphertext (nonce, tag, data) of UTF-8 text."""
        return self._aes.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, ciphertext: bytes) -> str:
        """Return the text encrypted by :meth:`encrypt`.

        Raises ``ValueError`` if the ciphertext is damaged or was made under
        another key.
        """
        return self._aes.decrypt(bytes(ciphertext)).decode("utf-8")

    def lookup_hash(self, cpr: str) -> str:
        """Return the hex HMAC-SHA256 of the compact CPR number under the lookup key.

        The CPR number is validated first (raising
        :class:`~ledger.errors.InvalidIdentifier`), so ``010190-1234`` and
        ``0101901234`` hash the same.
        """
        compact = validate_cpr(cpr)
        return hmac.new(self._lookup_key, compact.encode("ascii"), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        """Never show the key."""
        return "CitizenCipher(key=<redacted>)"


class CitizenRegister(Protocol):
    """Where CPR numbers and names live, behind pseudonymous citizen ids."""

    def register(self, cpr: str, name: str) -> CitizenId:
        """Store a citizen and return their id; an already known CPR keeps its id."""
        ...

    def get(self, citizen_id: CitizenId) -> CitizenRecord:
        """Return the record, or raise :class:`~ledger.errors.CitizenNotFound`."""
        ...

    def find(self, citizen_id: CitizenId) -> CitizenRecord | None:
        """Return the record, or ``None`` if there is none (or it was erased)."""
        ...

    def erase(self, citizen_id: CitizenId) -> bool:
        """Delete the citizen's personal data; ``True`` if there was any."""
        ...

    def id_for_cpr(self, cpr: str) -> CitizenId | None:
        """Return the id registered for a CPR number, or ``None``."""
        ...


class EncryptedCitizenRegister(ABC):
    """The register's behaviour, over storage primitives a backend provides.

    Subclasses store :class:`EncryptedCitizenRow` values and never see
    plaintext personal data; everything else (validation, encryption, lookup
    hashing, the repeat-registration rule) happens here, once.
    """

    def __init__(self, cipher: CitizenCipher) -> None:
        """Create the register around the cipher that protects its rows."""
        self._cipher = cipher

    # --- behaviour -----------------------------------------------------------

    def register(self, cpr: str, name: str) -> CitizenId:
        """Store a citizen and return their pseudonymous id.

        The CPR number is validated (:func:`~ledger.identifiers.validate_cpr`)
        and the name must be non-empty after stripping whitespace; the
        stripped name is stored. Registering a CPR number that is already
        registered returns the existing id and leaves the stored name as it
        was. After an erasure the same CPR number gets a new id.
        """
        compact = validate_cpr(cpr)
        clean_name = name.strip() if isinstance(name, str) else ""
        if not clean_name:
            raise InvalidValue("A citizen's name must not be empty", field="name")
        cpr_hash = self._cipher.lookup_hash(compact)
        existing = self._select_id_by_hash(cpr_hash)
        if existing is not None:
            return existing
        row = EncryptedCitizenRow(
            citizen_id=new_citizen_id(),
            cpr_hash=cpr_hash,
            cpr_encrypted=self._cipher.encrypt(compact),
            name_encrypted=self._cipher.encrypt(clean_name),
        )
        return self._insert_if_absent(row)

    def get(self, citizen_id: CitizenId) -> CitizenRecord:
        """Return the citizen's record, or raise ``CitizenNotFound``."""
        record = self.find(citizen_id)
        if record is None:
            raise CitizenNotFound(
                f"No citizen register entry for citizen id {citizen_id}",
                field="citizen_id",
            )
        return record

    def find(self, citizen_id: CitizenId) -> CitizenRecord | None:
        """Return the citizen's record, or ``None`` if none (or erased)."""
        row = self._select_by_id(citizen_id)
        if row is None:
            return None
        return CitizenRecord(
            citizen_id=row.citizen_id,
            cpr=self._cipher.decrypt(row.cpr_encrypted),
            name=self._cipher.decrypt(row.name_encrypted),
        )

    def erase(self, citizen_id: CitizenId) -> bool:
        """Hard-delete the citizen's row; ``True`` if one was deleted."""
        return self._delete(citizen_id)

    def id_for_cpr(self, cpr: str) -> CitizenId | None:
        """Return the id registered for a CPR number, found by its lookup hash.

        Raises :class:`~ledger.errors.InvalidIdentifier` for a malformed CPR.
        """
        return self._select_id_by_hash(self._cipher.lookup_hash(cpr))

    # --- storage primitives --------------------------------------------------

    @abstractmethod
    def _insert_if_absent(self, row: EncryptedCitizenRow) -> CitizenId:
        """Insert the row unless its ``cpr_hash`` exists; return the stored id.

        Must be atomic with respect to the hash's uniqueness, so that two
        concurrent registrations of one CPR number yield one id.
        """

    @abstractmethod
    def _select_by_id(self, citizen_id: CitizenId) -> EncryptedCitizenRow | None:
        """Return the row with this id, or ``None``."""

    @abstractmethod
    def _select_id_by_hash(self, cpr_hash: str) -> CitizenId | None:
        """Return the id of the row with this lookup hash, or ``None``."""

    @abstractmethod
    def _delete(self, citizen_id: CitizenId) -> bool:
        """Delete the row with this id; ``True`` if there was one."""


class InMemoryCitizenRegister(EncryptedCitizenRegister):
    """A register held in process memory, for unit tests and the popo backend.

    Rows are encrypted exactly as the SQL registers encrypt them, so
    behaviour (and what a memory dump would show) is the same.
    """

    def __init__(self, cipher: CitizenCipher) -> None:
        """Create an empty register."""
        super().__init__(cipher)
        self._lock = threading.Lock()
        self._rows: dict[CitizenId, EncryptedCitizenRow] = {}
        self._ids_by_hash: dict[str, CitizenId] = {}

    def _insert_if_absent(self, row: EncryptedCitizenRow) -> CitizenId:
        with self._lock:
            existing = self._ids_by_hash.get(row.cpr_hash)
            if existing is not None:
                return existing
            self._rows[row.citizen_id] = row
            self._ids_by_hash[row.cpr_hash] = row.citizen_id
            return row.citizen_id

    def _select_by_id(self, citizen_id: CitizenId) -> EncryptedCitizenRow | None:
        with self._lock:
            return self._rows.get(citizen_id)

    def _select_id_by_hash(self, cpr_hash: str) -> CitizenId | None:
        with self._lock:
            return self._ids_by_hash.get(cpr_hash)

    def _delete(self, citizen_id: CitizenId) -> bool:
        with self._lock:
            row = self._rows.pop(citizen_id, None)
            if row is None:
                return False
            del self._ids_by_hash[row.cpr_hash]
            return True


__all__ = [
    "CitizenCipher",
    "CitizenId",
    "CitizenRecord",
    "CitizenRegister",
    "EncryptedCitizenRegister",
    "EncryptedCitizenRow",
    "InMemoryCitizenRegister",
    "new_citizen_id",
]
