"""Algorithm names as they appear in profiles, MIME parameters and CMS, mapped to primitives.

Partners spell digests ``sha256``, ``sha-256`` or ``SHA256``; everything is normalised to one
key here so the rest of the code never compares spellings.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm, algorithms

from gateway.channels.as2.errors import UnsupportedAlgorithm

DEFAULT_DIGEST = "sha256"
DEFAULT_CIPHER = "aes128_cbc"

# key -> (cryptography hash class, name in micalg / Received-Content-MIC per RFC 5751)
_DIGESTS: dict[str, tuple[type[hashes.HashAlgorithm], str]] = {
    "sha1": (hashes.SHA1, "sha-1"),
    "sha224": (hashes.SHA224, "sha-224"),
    "sha256": (hashes.SHA256, "sha-256"),
    "sha384": (hashes.SHA384, "sha-384"),
    "sha512": (hashes.SHA512, "sha-512"),
}
DIGESTS = tuple(_DIGESTS)


def digest_key(name: str) -> str:
    """``SHA-256``, ``sha256``, ``sha_256`` -> ``sha256``; unknown names raise."""
    key = name.strip().lower().replace("-", "").replace("_", "")
    if key not in _DIGESTS:
        raise UnsupportedAlgorithm(f"unsupported digest {name!r} (supported: "
                                   f"{', '.join(DIGESTS)})")
    return key


def is_digest(name: str) -> bool:
    try:
        digest_key(name)
    except UnsupportedAlgorithm:
        return False
    return True


def hash_algorithm(name: str) -> hashes.HashAlgorithm:
    return _DIGESTS[digest_key(name)][0]()


def micalg_name(name: str) -> str:
    return _DIGESTS[digest_key(name)][1]


@dataclass(frozen=True)
class CipherSpec:
    key: str
    cms_name: str  # asn1crypto EncryptionAlgorithmId name
    key_bytes: int
    block_bytes: int
    legacy: bool = False

    def algorithm(self, key: bytes) -> BlockCipherAlgorithm:
        if self.key.startswith("aes"):
            return algorithms.AES(key)
        return TripleDES(key)


_CIPHERS = {
    "aes128_cbc": CipherSpec("aes128_cbc", "aes128_cbc", 16, 16),
    "aes192_cbc": CipherSpec("aes192_cbc", "aes192_cbc", 24, 16),
    "aes256_cbc": CipherSpec("aes256_cbc", "aes256_cbc", 32, 16),
    # Legacy partners only: the rfc4130bis draft deprecates 3DES.
    "tripledes_cbc": CipherSpec("tripledes_cbc", "tripledes_3key", 24, 8, legacy=True),
}
_CIPHER_ALIASES = {"aes_128_cbc": "aes128_cbc", "aes_192_cbc": "aes192_cbc",
                   "aes_256_cbc": "aes256_cbc", "aes128": "aes128_cbc", "aes256": "aes256_cbc",
                   "tripledes_192_cbc": "tripledes_cbc", "tripledes_3key": "tripledes_cbc",
                   "3des": "tripledes_cbc", "des_ede3_cbc": "tripledes_cbc"}
CIPHERS = tuple(_CIPHERS)


def cipher_spec(name: str) -> CipherSpec:
    key = name.strip().lower().replace("-", "_")
    key = _CIPHER_ALIASES.get(key, key)
    if key not in _CIPHERS:
        raise UnsupportedAlgorithm(f"unsupported cipher {name!r} (supported: "
                                   f"{', '.join(CIPHERS)})")
    return _CIPHERS[key]


def cipher_by_cms_name(cms_name: str) -> CipherSpec:
    for spec in _CIPHERS.values():
        if spec.cms_name == cms_name:
            return spec
    raise UnsupportedAlgorithm(f"unsupported content encryption algorithm {cms_name!r}")
