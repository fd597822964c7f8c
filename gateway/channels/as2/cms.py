"""CMS (RFC 5652) building blocks for S/MIME: detached signatures, enveloped data, compression.

Signing uses ``cryptography``'s PKCS#7 builder. Verification, enveloping and decryption are
written here on ``asn1crypto`` + ``cryptography`` primitives because ``cryptography`` has no
PKCS#7 verification and no 3DES decryption. Pure functions over bytes: no I/O, no clock.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from asn1crypto import cms as acms
from asn1crypto import core
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import padding as sympad
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs7

from gateway.channels.as2.algorithms import (
    cipher_by_cms_name,
    cipher_spec,
    digest_key,
    hash_algorithm,
)
from gateway.channels.as2.errors import (
    AuthenticationFailed,
    DecompressionFailed,
    DecryptionFailed,
    IntegrityCheckFailed,
    MalformedMessage,
    UnsupportedAlgorithm,
)

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class KeyPair:
    """One of our own certificates with its private key (signing and/or decryption)."""

    certificate: x509.Certificate
    key: PrivateKey


def cert_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _issuer_serial(cert: x509.Certificate) -> tuple[bytes, int]:
    # Compare issuers by their DER encoding: the same name may print differently.
    return cert.issuer.public_bytes(), cert.serial_number


def _load_content_info(der: bytes, expected: str) -> acms.ContentInfo:
    # asn1crypto parses lazily: later field access can still fail, which _cms_guard catches.
    try:
        info = acms.ContentInfo.load(der)
        kind = info["content_type"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedMessage(f"not a CMS structure: {exc}") from None
    if kind != expected:
        raise MalformedMessage(f"expected CMS {expected}, got {kind}")
    return info


F = TypeVar("F", bound=Callable[..., Any])


def _cms_guard(fn: F) -> F:
    """Hostile DER surfaces as asn1crypto exceptions deep inside a field access: turn every
    one of them into a MalformedMessage naming the problem, never a traceback."""

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
            raise MalformedMessage(f"malformed CMS structure: {exc}") from None

    return guarded  # type: ignore[return-value]


@functools.lru_cache(maxsize=64)
def _asn1_certificate(der: bytes) -> ax509.Certificate:
    return ax509.Certificate.load(der)


# -- signatures ---------------------------------------------------------------------------------

def sign(data: bytes, signer: KeyPair, digest: str,
         signing_time: datetime | None = None) -> bytes:
    """A detached CMS SignedData (DER) over ``data`` exactly as given (no newline conversion).

    SHA-2 signatures come from ``cryptography``'s PKCS#7 builder (Rust, about twice as fast;
    it stamps its own signing time). It refuses SHA-1, which legacy partners still require, so
    that one is assembled here with asn1crypto.
    """
    key = digest_key(digest)
    hash_alg = hash_algorithm(key)
    if key != "sha1":
        builder = pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(
            signer.certificate, signer.key, hash_alg)  # type: ignore[arg-type]
        return builder.sign(serialization.Encoding.DER,
                            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary,
                             pkcs7.PKCS7Options.NoCapabilities])
    attributes: list[dict[str, object]] = [
        {"type": "content_type", "values": ["data"]},
        {"type": "message_digest", "values": [hashlib.new(key, data).digest()]},
    ]
    if signing_time is not None:
        attributes.insert(1, {"type": "signing_time",
                              "values": [acms.Time({"utc_time": signing_time})]})
    signed_attrs = acms.CMSAttributes(attributes)
    to_sign = signed_attrs.dump()  # DER of the SET OF, as the signature covers it
    if isinstance(signer.key, rsa.RSAPrivateKey):
        signature = signer.key.sign(to_sign, padding.PKCS1v15(), hash_alg)
        signature_algorithm = "rsassa_pkcs1v15"
    else:
        signature = signer.key.sign(to_sign, ec.ECDSA(hash_alg))
        signature_algorithm = f"{key}_ecdsa"
    certificate = _asn1_certificate(cert_der(signer.certificate))
    signer_info = acms.SignerInfo({
        "version": "v1",
        "sid": acms.SignerIdentifier(name="issuer_and_serial_number",
                                     value=acms.IssuerAndSerialNumber({
                                         "issuer": certificate.issuer,
                                         "serial_number": certificate.serial_number})),
        "digest_algorithm": {"algorithm": key},
        "signed_attrs": signed_attrs,
        "signature_algorithm": {"algorithm": signature_algorithm},
        "signature": signature,
    })
    signed_data = acms.SignedData({
        "version": "v1",
        "digest_algorithms": [{"algorithm": key}],
        "encap_content_info": {"content_type": "data"},
        "certificates": [certificate],
        "signer_infos": [signer_info],
    })
    return acms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()


@dataclass(frozen=True)
class Verified:
    digest: str  # normalised key, e.g. "sha256"
    certificate: x509.Certificate


def _signer_matches(sid: acms.SignerIdentifier, cert: x509.Certificate) -> bool:
    if sid.name == "issuer_and_serial_number":
        issuer, serial = _issuer_serial(cert)
        return (sid.chosen["issuer"].dump() == issuer
                and sid.chosen["serial_number"].native == serial)
    try:
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return False
    return bool(sid.chosen.native == ski)


def _verify_raw(cert: x509.Certificate, signature: bytes, data: bytes, digest: str,
                algo: str) -> None:
    key = cert.public_key()
    hash_alg = hash_algorithm(digest)
    if isinstance(key, rsa.RSAPublicKey):
        if algo == "rsassa_pss":
            pad: padding.AsymmetricPadding = padding.PSS(
                mgf=padding.MGF1(hash_alg), salt_length=padding.PSS.AUTO)
        else:
            pad = padding.PKCS1v15()
        key.verify(signature, data, pad, hash_alg)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(hash_alg))
    else:
        raise UnsupportedAlgorithm(f"unsupported signer key type {type(key).__name__}")


@_cms_guard
def verify(data: bytes, signature_der: bytes,
           trusted: Sequence[x509.Certificate]) -> Verified:
    """Check a detached signature against the partner's registered certificates only.

    A certificate embedded in the signature is never trusted by itself: it only helps to
    pick which registered certificate to try.
    """
    info = _load_content_info(signature_der, "signed_data")
    signers = info["content"]["signer_infos"]
    if len(signers) == 0:
        raise AuthenticationFailed("the signature has no signer")
    problems: list[str] = []
    for signer in signers:
        digest = digest_key(signer["digest_algorithm"]["algorithm"].native)
        algo = signer["signature_algorithm"].signature_algo
        signed_attrs = signer["signed_attrs"]
        to_verify = data
        if signed_attrs.native is not None and len(signed_attrs):
            digests = [a["values"][0].native for a in signed_attrs
                       if a["type"].native == "message_digest"]
            computed = hashlib.new(digest, data).digest()
            if not digests or not hmac.compare_digest(digests[0], computed):
                raise IntegrityCheckFailed(
                    "the signed content does not match the signature's message digest")
            # The signature covers the attributes re-tagged as a SET OF (RFC 5652 §5.4).
            to_verify = b"\x31" + signed_attrs.dump()[1:]
        candidates = [c for c in trusted if _signer_matches(signer["sid"], c)]
        if not candidates:
            problems.append("signed by a certificate that is not registered for this partner")
            continue
        for cert in candidates:
            try:
                _verify_raw(cert, signer["signature"].native, to_verify, digest, algo)
            except InvalidSignature:
                problems.append(f"signature does not verify with {cert.subject.rfc4514_string()}")
                continue
            return Verified(digest, cert)
    raise AuthenticationFailed("; ".join(problems))


# -- enveloped data ---------------------------------------------------------------------------

_FAST_CIPHERS = {"aes128_cbc": algorithms.AES128, "aes256_cbc": algorithms.AES256}


def encrypt(data: bytes, recipient: x509.Certificate, cipher: str,
            *, key_transport: str = "rsaes_pkcs1v15") -> bytes:
    spec = cipher_spec(cipher)
    if spec.key in _FAST_CIPHERS and key_transport == "rsaes_pkcs1v15":
        # cryptography's envelope builder (Rust) covers the defaults; 3DES, AES-192 and OAEP
        # are assembled below.
        return (pkcs7.PKCS7EnvelopeBuilder().set_data(data).add_recipient(recipient)
                .set_content_encryption_algorithm(_FAST_CIPHERS[spec.key])
                .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary]))
    cek = os.urandom(spec.key_bytes)
    iv = os.urandom(spec.block_bytes)
    padder = sympad.PKCS7(spec.block_bytes * 8).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(spec.algorithm(cek), modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    public = recipient.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise UnsupportedAlgorithm("encryption needs an RSA recipient certificate")
    if key_transport == "rsaes_oaep":
        sha1 = hash_algorithm("sha1")  # the RSAES-OAEP-params default (RFC 3560)
        wrapped = public.encrypt(cek, padding.OAEP(mgf=padding.MGF1(sha1), algorithm=sha1,
                                                   label=None))
    else:
        wrapped = public.encrypt(cek, padding.PKCS1v15())
    issuer, serial = _issuer_serial(recipient)
    recipient_info = acms.RecipientInfo(name="ktri", value=acms.KeyTransRecipientInfo({
        "version": "v0",
        "rid": acms.RecipientIdentifier(name="issuer_and_serial_number",
                                        value=acms.IssuerAndSerialNumber({
                                            "issuer": ax509.Name.load(issuer),
                                            "serial_number": serial})),
        "key_encryption_algorithm": {"algorithm": key_transport},
        "encrypted_key": wrapped,
    }))
    enveloped = acms.EnvelopedData({
        "version": "v0",
        "recipient_infos": [recipient_info],
        "encrypted_content_info": {
            "content_type": "data",
            "content_encryption_algorithm": {"algorithm": spec.cms_name,
                                             "parameters": core.OctetString(iv)},
            "encrypted_content": encrypted,
        },
    })
    return acms.ContentInfo({"content_type": "enveloped_data", "content": enveloped}).dump()


@dataclass(frozen=True)
class Decrypted:
    content: bytes
    cipher: str
    certificate: x509.Certificate  # which of our certificates it was encrypted for


def _unwrap_key(pair: KeyPair, wrapped: bytes, algorithm: acms.KeyEncryptionAlgorithm) -> bytes:
    if not isinstance(pair.key, rsa.RSAPrivateKey):
        raise DecryptionFailed("our decryption key is not an RSA key")
    name = algorithm["algorithm"].native
    if name == "rsaes_oaep":
        params = algorithm["parameters"]
        hash_name = params["hash_algorithm"]["algorithm"].native if params.native else "sha1"
        alg = hash_algorithm(hash_name)
        return pair.key.decrypt(wrapped, padding.OAEP(mgf=padding.MGF1(alg), algorithm=alg,
                                                      label=None))
    if name in ("rsaes_pkcs1v15", "rsa"):
        return pair.key.decrypt(wrapped, padding.PKCS1v15())
    raise UnsupportedAlgorithm(f"unsupported key transport {name!r}")


@_cms_guard
def decrypt(der: bytes, ours: Sequence[KeyPair]) -> Decrypted:
    info = _load_content_info(der, "enveloped_data")
    enveloped = info["content"]
    content_info = enveloped["encrypted_content_info"]
    algorithm = content_info["content_encryption_algorithm"]
    try:
        spec = cipher_by_cms_name(algorithm["algorithm"].native)
    except UnsupportedAlgorithm:
        # RC2 and friends: OpenSSL 3 disables them and the IETF deprecates them.
        raise UnsupportedAlgorithm(f"unsupported content encryption algorithm "
                                   f"{algorithm['algorithm'].native!r}") from None
    encrypted = content_info["encrypted_content"].native
    if encrypted is None:
        raise MalformedMessage("enveloped data without encrypted content")
    for info_choice in enveloped["recipient_infos"]:
        if info_choice.name != "ktri":
            continue
        ktri = info_choice.chosen
        rid = ktri["rid"]
        for pair in ours:
            if not _signer_matches(rid, pair.certificate):  # same identifier shapes as sid
                continue
            try:
                cek = _unwrap_key(pair, ktri["encrypted_key"].native,
                                  ktri["key_encryption_algorithm"])
                iv = algorithm.encryption_iv
                decryptor = Cipher(spec.algorithm(cek), modes.CBC(iv)).decryptor()
                padded = decryptor.update(encrypted) + decryptor.finalize()
                unpadder = sympad.PKCS7(spec.block_bytes * 8).unpadder()
                content = unpadder.update(padded) + unpadder.finalize()
            except (ValueError, TypeError) as exc:
                who = pair.certificate.subject.rfc4514_string()
                raise DecryptionFailed(f"decryption with {who} failed: {exc}") from None
            return Decrypted(content, spec.key, pair.certificate)
    raise DecryptionFailed("the message is not encrypted for any of our certificates")


# -- compression (RFC 3274) ---------------------------------------------------------------------

def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


# DER of the fixed parts: OIDs 1.2.840.113549.1.9.16.1.9 (compressed data),
# 1.2.840.113549.1.9.16.3.8 (zlib) and 1.2.840.113549.1.7.1 (data).
_OID_COMPRESSED = bytes.fromhex("060b2a864886f70d0109100109")
_ZLIB_ALGORITHM = _der(0x30, bytes.fromhex("060b2a864886f70d0109100308"))
_OID_DATA = bytes.fromhex("06092a864886f70d010701")


def compress(data: bytes) -> bytes:
    """RFC 3274 CompressedData (zlib) as DER.

    Encoded by hand: the structure is fixed and asn1crypto spends longer building it than
    zlib spends compressing a typical interchange. ``decompress`` reads it with asn1crypto.
    """
    encapsulated = _der(0x30, _OID_DATA + _der(0xA0, _der(0x04, zlib.compress(data))))
    compressed = _der(0x30, b"\x02\x01\x00" + _ZLIB_ALGORITHM + encapsulated)
    return _der(0x30, _OID_COMPRESSED + _der(0xA0, compressed))


@_cms_guard
def decompress(der: bytes, *, limit: int) -> bytes:
    """Inflate at most ``limit`` bytes: a small hostile message cannot fill memory."""
    info = _load_content_info(der, "compressed_data")
    data = info["content"]
    if data["compression_algorithm"]["algorithm"].native != "zlib":
        raise DecompressionFailed("only zlib compression (RFC 3274) is supported")
    raw = data["encap_content_info"]["content"].native
    if not isinstance(raw, bytes):
        raise DecompressionFailed("compressed data has no content")
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise DecompressionFailed(f"zlib: {exc}") from None
    if len(out) > limit:
        raise DecompressionFailed(f"decompressed content exceeds the limit of {limit} bytes")
    if not inflater.eof:
        raise DecompressionFailed("compressed data is truncated")
    return out
