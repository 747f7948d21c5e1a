"""The backup file: a KetaDesk header, a manifest, then the database itself (maybe encrypted).

Layout, in order::

    KETADESK-BACKUP\\n      16 bytes: the mark that makes the file recognisably KetaDesk's
    length                 4 bytes, big-endian: the size of the manifest
    manifest               UTF-8 JSON (:class:`Manifest`): format version, schema revision,
                           when, from which kind of database, rows per table, the ledger's
                           total in cents, the payload's size and SHA-256, and how (if at
                           all) the payload is encrypted
    payload                a SQLite file, or a ``pg_dump --format=custom`` archive

The manifest stays readable without the passphrase, so :func:`read_manifest` can refuse a
file that is not a backup, or one from a newer schema, before anything is asked or touched.

Encrypted payloads (``cryptography``): the passphrase is stretched with scrypt into a
256-bit AES-GCM key; the payload is sealed in 1 MiB chunks, each with its own nonce (a
random prefix and the chunk's number) and, as associated data, the manifest's hash, the
chunk's number and whether it is the last. So an altered manifest, a swapped, dropped or
truncated chunk all fail to open. A second scrypt output, stored hashed, tells a wrong
passphrase apart from a damaged file.

Files are written owner-only (0600) under a temporary name and renamed when whole.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from ketadesk.errors import FileNotWritten, KetaDeskError
from ketadesk.files import private_file

MAGIC = b"KETADESK-BACKUP\n"
FORMAT_VERSION = 1
CHUNK = 1 << 20
MAX_MANIFEST = 1 << 20
SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 15, 8, 1
SUFFIX = ".kdbackup"


class BackupError(KetaDeskError):
    """A backup cannot be written, read or restored; the message says why in words."""


class WrongPassphrase(BackupError):
    """The passphrase given does not open this backup."""


@dataclass(frozen=True)
class Encryption:
    """How a payload is sealed: scrypt parameters, salt and nonce prefix (all public)."""

    salt: bytes
    nonce_prefix: bytes
    key_check: str
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, readable without the passphrase."""

    schema: str | None
    created_at: str
    source: str  # "sqlite" or "postgresql"
    database: str
    tables: Mapping[str, int]
    ledger_cents: int
    payload_bytes: int = 0
    payload_sha256: str = ""
    encryption: Encryption | None = None
    kind: str = "manual"  # manual, daily or before-restore
    format_version: int = FORMAT_VERSION

    @property
    def encrypted(self) -> bool:
        return self.encryption is not None

    def to_json(self) -> bytes:
        data: dict[str, Any] = {
            "format": "ketadesk-backup",
            "format_version": self.format_version,
            "schema": self.schema,
            "created_at": self.created_at,
            "kind": self.kind,
            "source": self.source,
            "database": self.database,
            "tables": dict(sorted(self.tables.items())),
            "ledger_cents": self.ledger_cents,
            "payload_bytes": self.payload_bytes,
            "payload_sha256": self.payload_sha256,
            "encryption": None,
        }
        if self.encryption is not None:
            e = self.encryption
            data["encryption"] = {
                "cipher": "AES-256-GCM",
                "kdf": "scrypt",
                "n": e.n,
                "r": e.r,
                "p": e.p,
                "salt": _b64(e.salt),
                "nonce_prefix": _b64(e.nonce_prefix),
                "key_check": e.key_check,
                "chunk": CHUNK,
            }
        return json.dumps(data, indent=1).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict) or data.get("format") != "ketadesk-backup":
            raise ValueError("no KetaDesk manifest")
        sealed = data.get("encryption")
        encryption = None
        if sealed is not None:
            encryption = Encryption(
                salt=base64.b64decode(sealed["salt"]),
                nonce_prefix=base64.b64decode(sealed["nonce_prefix"]),
                key_check=str(sealed["key_check"]),
                n=int(sealed["n"]),
                r=int(sealed["r"]),
                p=int(sealed["p"]),
            )
        return cls(
            schema=data["schema"],
            created_at=str(data["created_at"]),
            source=str(data["source"]),
            database=str(data["database"]),
            tables={str(k): int(v) for k, v in data["tables"].items()},
            ledger_cents=int(data["ledger_cents"]),
            payload_bytes=int(data["payload_bytes"]),
            payload_sha256=str(data["payload_sha256"]),
            encryption=encryption,
            kind=str(data.get("kind", "manual")),
            format_version=int(data["format_version"]),
        )


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> tuple[bytes, str]:
    """The AES key and the hash that recognises the passphrase, from one scrypt run."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    stretched = Scrypt(salt=salt, length=64, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))
    return stretched[:32], hashlib.sha256(stretched[32:]).hexdigest()


def new_encryption(passphrase: str) -> tuple[Encryption, bytes]:
    """Fresh salt and nonce prefix for ``passphrase``; returns them and the key."""
    if not passphrase:
        raise BackupError("an empty passphrase cannot protect a backup")
    salt = secrets.token_bytes(16)
    key, check = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return Encryption(salt=salt, nonce_prefix=secrets.token_bytes(8), key_check=check), key


def _key_for(encryption: Encryption, passphrase: str | None) -> bytes:
    if not passphrase:
        raise WrongPassphrase("this backup is encrypted: give its passphrase")
    key, check = _derive(passphrase, encryption.salt, encryption.n, encryption.r, encryption.p)
    if not hmac.compare_digest(check, encryption.key_check):
        raise WrongPassphrase("the passphrase does not open this backup; nothing was changed")
    return key


def _chunk_aad(manifest_hash: bytes, index: int, last: bool) -> bytes:
    return manifest_hash + struct.pack(">I?", index, last)


def _nonce(encryption: Encryption, index: int) -> bytes:
    return encryption.nonce_prefix + struct.pack(">I", index)


def _read_chunks(stream: IO[bytes]) -> Iterator[tuple[bytes, bool]]:
    """The payload file's chunks, each with whether it is the last."""
    current = stream.read(CHUNK)
    while True:
        following = stream.read(CHUNK)
        yield current, not following
        if not following:
            return
        current = following


def file_digest(path: Path) -> tuple[int, str]:
    """The size and SHA-256 of ``path``, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as source:
        for chunk, _last in _read_chunks(source):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def write_archive(
    target: Path, manifest: Manifest, payload: Path, passphrase: str | None = None
) -> Manifest:
    """Write ``payload`` under ``manifest`` to ``target`` (0600, renamed when whole).

    Fills in the payload's size and hash, and the encryption when ``passphrase`` is given;
    returns the manifest as written.
    """
    size, sha = file_digest(payload)
    key = None
    encryption = None
    if passphrase is not None:
        encryption, key = new_encryption(passphrase)
    written = Manifest(
        **{
            **manifest.__dict__,
            "payload_bytes": size,
            "payload_sha256": sha,
            "encryption": encryption,
        }
    )
    header = written.to_json()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        with private_file(target) as out, payload.open("rb") as source:
            out.write(MAGIC + struct.pack(">I", len(header)) + header)
            if key is None or encryption is None:
                for chunk, _last in _read_chunks(source):
                    out.write(chunk)
            else:
                _seal(out, source, key, encryption, hashlib.sha256(header).digest())
    except FileNotWritten as error:
        raise BackupError(f"no backup was taken: {error}") from None
    return written


def _seal(
    out: BinaryIO, source: BinaryIO, key: bytes, encryption: Encryption, manifest_hash: bytes
) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    cipher = AESGCM(key)
    for index, (chunk, last) in enumerate(_read_chunks(source)):
        sealed = cipher.encrypt(
            _nonce(encryption, index), chunk, _chunk_aad(manifest_hash, index, last)
        )
        out.write(struct.pack(">I", len(sealed)) + sealed)


def _open_header(stream: BinaryIO, name: str) -> tuple[Manifest, bytes]:
    if stream.read(len(MAGIC)) != MAGIC:
        raise BackupError(
            f"{name} is not a KetaDesk backup (it lacks the KetaDesk header); nothing was changed"
        )
    raw_length = stream.read(4)
    length = struct.unpack(">I", raw_length)[0] if len(raw_length) == 4 else 0
    raw = stream.read(length)
    if not 0 < length <= MAX_MANIFEST or len(raw) != length:
        raise BackupError(f"{name} is a damaged KetaDesk backup: its manifest is cut short")
    try:
        return Manifest.from_json(raw), raw
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(
            f"{name} is a damaged KetaDesk backup: its manifest cannot be read ({error})"
        ) from None


def read_manifest(path: Path) -> Manifest:
    """The manifest of the backup at ``path``; refuses, in words, anything else."""
    try:
        with path.open("rb") as stream:
            return _open_header(stream, str(path))[0]
    except FileNotFoundError:
        raise BackupError(f"there is no file {path}") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a folder, not a KetaDesk backup") from None


def extract_payload(path: Path, target: Path, passphrase: str | None = None) -> Manifest:
    """Write the payload of backup ``path`` to ``target`` (0600) and check its hash.

    Raises :class:`WrongPassphrase` for a missing or wrong passphrase and
    :class:`BackupError` when the file was altered or cut short.
    """
    with path.open("rb") as stream:
        manifest, raw = _open_header(stream, str(path))
        key = None if manifest.encryption is None else _key_for(manifest.encryption, passphrase)
        handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(handle, "wb") as out:
            for chunk in _payload_chunks(stream, manifest, key, hashlib.sha256(raw).digest()):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    if size != manifest.payload_bytes or digest.hexdigest() != manifest.payload_sha256:
        raise BackupError(
            f"{path} was altered or is damaged: its contents do not match the "
            "checksum in its manifest; nothing was changed"
        )
    return manifest


def _payload_chunks(
    stream: BinaryIO, manifest: Manifest, key: bytes | None, manifest_hash: bytes
) -> Iterator[bytes]:
    if key is None or manifest.encryption is None:
        while chunk := stream.read(CHUNK):
            yield chunk
        return
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    cipher = AESGCM(key)
    index = 0
    raw_length = stream.read(4)
    while True:
        if len(raw_length) != 4:
            raise BackupError("the encrypted backup is cut short; nothing was changed")
        sealed = stream.read(struct.unpack(">I", raw_length)[0])
        raw_length = stream.read(4)
        last = raw_length == b""
        try:
            yield cipher.decrypt(
                _nonce(manifest.encryption, index), sealed, _chunk_aad(manifest_hash, index, last)
            )
        except InvalidTag:
            raise BackupError(
                "the encrypted backup was altered or is damaged (a chunk fails "
                "its authentication); nothing was changed"
            ) from None
        if last:
            return
        index += 1
