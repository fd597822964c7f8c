"""AS2 codec throughput: edigate's sign+encrypt+compress and back, next to the raw primitives.

For each payload size the same run measures
  * primitives: the bare cryptographic work with ``cryptography`` and ``zlib`` (compress, RSA
    signature over SHA-256, AES-128-CBC with an RSA-wrapped key; then unwrap, decrypt, verify,
    inflate) — no MIME, no CMS encoding, the floor any AS2 implementation stands on;
  * edigate: ``build_message`` (compress, sign, encrypt as S/MIME with CMS) followed by
    ``open_message`` (decrypt, verify against the partner's certificate, inflate, MIC).
The ratio is edigate's messages/s over the primitives' messages/s (1.00 = no overhead).

    python bench/as2.py            # 10 KB x 200, 1 MB x 20
    python bench/as2.py --quick    # a few seconds
"""

from __future__ import annotations

import argparse
import os
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import padding as sympad
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID
from rich.console import Console
from rich.table import Table

from gateway.channels.as2 import mime
from gateway.channels.as2.cms import KeyPair
from gateway.channels.as2.message import (
    MdnRequest,
    OutboundOptions,
    SecurityPolicy,
    build_message,
    open_message,
)

NOW = datetime.now(UTC)


def identity(name: str) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW).not_valid_after(NOW.replace(year=NOW.year + 1))
            .sign(key, hashes.SHA256()))
    return KeyPair(cert, key)


def edi_payload(size: int) -> bytes:
    """EDIFACT-like text (compressible the way real interchanges are), of ``size`` bytes."""
    line = b"LIN+%d++4012345%06d:EN'QTY+21:%d:PCE'DTM+2:20261124:102'\n"
    out = bytearray(b"UNA:+.? 'UNB+UNOC:3+SENDER:14+EDIGATE:ZZZ+261122:1200+1'\n")
    n = 0
    while len(out) < size:
        n += 1
        out += line % (n, n * 7919 % 1_000_000, n % 500 + 1)
    return bytes(out[:size])


def primitives_round_trip(payload: bytes, sender: KeyPair, receiver: KeyPair) -> bytes:
    compressed = zlib.compress(payload)
    signature = sender.key.sign(compressed, padding.PKCS1v15(), hashes.SHA256())
    cek, iv = os.urandom(16), os.urandom(16)
    padder = sympad.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(cek), modes.CBC(iv)).encryptor()
    sealed = encryptor.update(padder.update(compressed) + padder.finalize()) + \
        encryptor.finalize()
    wrapped = receiver.certificate.public_key().encrypt(cek, padding.PKCS1v15())
    # and back
    key = receiver.key.decrypt(wrapped, padding.PKCS1v15())
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    unpadder = sympad.PKCS7(128).unpadder()
    opened = unpadder.update(decryptor.update(sealed) + decryptor.finalize()) + \
        unpadder.finalize()
    sender.certificate.public_key().verify(signature, opened, padding.PKCS1v15(),
                                           hashes.SHA256())
    return zlib.decompress(opened)


def edigate_round_trip(payload: bytes, sender: KeyPair, receiver: KeyPair) -> bytes:
    built = build_message(payload, message_id="bench@edigate.as2", as2_from="EDIGATE",
                          as2_to="PARTNER", now=NOW,
                          options=OutboundOptions(compress=True,
                                                  content_type="application/edifact"),
                          mdn=MdnRequest(), signer=sender, recipient=receiver.certificate)
    top = mime.Entity((("Content-Type", dict(built.headers)["Content-Type"]),), built.body)
    opened = open_message(top, ours=[receiver], trusted=[sender.certificate],
                          policy=SecurityPolicy(require_signed=True, require_encrypted=True))
    return opened.payload


def rate(fn: Callable[[], bytes], count: int) -> float:
    fn()  # warm-up
    started = time.perf_counter()
    for _ in range(count):
        fn()
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short run (a few seconds)")
    args = parser.parse_args()
    sender, receiver = identity("EDIGATE"), identity("PARTNER")
    sizes = [(10 * 1024, 30 if args.quick else 200), (1 << 20, 3 if args.quick else 20)]
    table = Table(title="AS2 round trip: compress + sign + encrypt, then decrypt + verify + "
                        "inflate (RSA-2048, SHA-256, AES-128-CBC)")
    for column in ("payload", "messages", "path", "messages/s", "MB/s", "ratio"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for size, count in sizes:
        payload = edi_payload(size)
        assert primitives_round_trip(payload, sender, receiver) == payload
        assert edigate_round_trip(payload, sender, receiver) == payload  # byte-exact
        base = rate(lambda p=payload: primitives_round_trip(p, sender, receiver), count)
        ours = rate(lambda p=payload: edigate_round_trip(p, sender, receiver), count)
        label = f"{size // 1024} KB" if size < 1 << 20 else f"{size >> 20} MB"
        for path, value in (("primitives (baseline)", base), ("edigate codec", ours)):
            table.add_row(label, str(count), path, f"{value:,.1f}",
                          f"{value * size / 1e6:,.1f}", f"{value / base:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
