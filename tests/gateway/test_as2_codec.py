"""The AS2 codec alone (no I/O), proven against pyas2lib as an independent peer and against
``openssl cms``: sign/verify, encrypt/decrypt, compression in both orders, MICs, MDNs."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import cms as acms

from gateway.channels.as2 import cms, mime
from gateway.channels.as2.errors import (
    AuthenticationFailed,
    DecompressionFailed,
    DecryptionFailed,
    InsufficientSecurity,
    IntegrityCheckFailed,
    MalformedMessage,
    MdnError,
    UnsupportedAlgorithm,
)
from gateway.channels.as2.mdn import (
    DUPLICATE,
    PROCESSED,
    Disposition,
    build_mdn,
    looks_like_mdn,
    read_mdn,
)
from gateway.channels.as2.message import (
    MdnRequest,
    OutboundOptions,
    SecurityPolicy,
    build_message,
    open_message,
)
from gateway.channels.as2.mic import compute_mic, parse_receipt_options
from tests.gateway.as2_helpers import (
    OUR_AS2,
    PARTNER_AS2,
    import_pyas2lib,
    make_identity,
    pyas2_message,
    pyas2_org,
    pyas2_view_of_us,
    raw_request,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
EDI = b"UNA:+.? 'UNB+UNOC:3+ACME:14+EDIGATE:ZZZ+261122:1200+42'\nUNZ+0+42'\n"
BINARY = bytes(range(256)) * 4 + b"\n\r\n\r"
STRICT = SecurityPolicy(require_signed=True, require_encrypted=True)


@pytest.fixture(scope="module")
def ours():
    return make_identity("EDIGATE")


@pytest.fixture(scope="module")
def theirs():
    return make_identity("ACME")


def top_of(message) -> mime.Entity:
    return mime.Entity((("Content-Type", message.headers["Content-Type"]),), message.content)


def our_message(ours, theirs, payload=EDI, **options):
    return build_message(payload, message_id="m-1@edigate.as2", as2_from=OUR_AS2,
                         as2_to=PARTNER_AS2, now=NOW, options=OutboundOptions(**options),
                         mdn=MdnRequest(), signer=ours.pair, recipient=theirs.cert,
                         filename="orders.edi")


# -- pyas2lib sends, we open ---------------------------------------------------------------------

@pytest.mark.parametrize(("digest", "cipher"), [("sha256", "aes_128_cbc"),
                                                ("sha512", "aes_256_cbc"),
                                                ("sha1", "tripledes_192_cbc")])
def test_we_open_pyas2lib_signed_encrypted_compressed(ours, theirs, digest, cipher) -> None:
    sent = pyas2_message(pyas2_org(theirs), pyas2_view_of_us(ours, digest_alg=digest,
                                                             enc_alg=cipher), EDI)
    opened = open_message(top_of(sent), ours=[ours.pair], trusted=[theirs.cert], policy=STRICT)
    assert opened.layers == ["encrypted", "signed", "compressed"]
    # pyas2lib sends text as 7/8bit MIME: line ends arrive canonical (CRLF).
    assert opened.payload == EDI.replace(b"\n", b"\r\n")
    assert opened.cipher == {"aes_128_cbc": "aes128_cbc", "aes_256_cbc": "aes256_cbc",
                             "tripledes_192_cbc": "tripledes_cbc"}[cipher]
    assert opened.mic is not None and opened.mic.algorithm == digest
    assert opened.mic.value == sent.mic.decode()


def test_octet_stream_arrives_byte_exact(ours, theirs) -> None:
    sent = pyas2_message(pyas2_org(theirs), pyas2_view_of_us(ours), BINARY,
                         content_type="application/octet-stream")
    opened = open_message(top_of(sent), ours=[ours.pair], trusted=[theirs.cert], policy=STRICT)
    assert opened.payload == BINARY


def test_pyas2lib_verifies_our_signed_mdn(ours, theirs) -> None:
    sent = pyas2_message(pyas2_org(theirs), pyas2_view_of_us(ours), EDI)
    opened = open_message(top_of(sent), ours=[ours.pair], trusted=[theirs.cert], policy=STRICT)
    mdn = build_mdn(original_message_id=sent.message_id, original_recipient=OUR_AS2,
                    as2_from=OUR_AS2, as2_to=PARTNER_AS2, disposition=PROCESSED,
                    mic=opened.mic, message_id="mdn-1@edigate.as2", now=NOW, signer=ours.pair)
    as2 = import_pyas2lib().as2
    status, detail = as2.Mdn().parse(raw_request(mdn.headers, mdn.body),
                                     find_message_cb=lambda mid, rcpt: sent)
    assert (status, detail) == ("processed", None)
    # The same MDN with a wrong MIC is caught by pyas2lib: the MIC really is compared.
    bad_mic = compute_mic(b"other", "sha256")
    wrong = build_mdn(original_message_id=sent.message_id, original_recipient=OUR_AS2,
                      as2_from=OUR_AS2, as2_to=PARTNER_AS2, disposition=PROCESSED, mic=bad_mic,
                      message_id="mdn-2@edigate.as2", now=NOW, signer=ours.pair)
    status, _ = as2.Mdn().parse(raw_request(wrong.headers, wrong.body),
                                find_message_cb=lambda mid, rcpt: sent)
    assert status == "processed/warning"


# -- we send, pyas2lib opens -----------------------------------------------------------------------

def _pyas2lib_receives(ours, theirs, built, sign=True, encrypt=True):
    as2 = import_pyas2lib().as2
    view = as2.Partner(as2_name=OUR_AS2, verify_cert=ours.cert_pem, encrypt_cert=ours.cert_pem,
                       sign=sign, encrypt=encrypt)
    received = as2.Message()
    status, (exc, _tb), mdn = received.parse(raw_request(built.headers, built.body),
                                             find_org_cb=lambda _: pyas2_org(theirs),
                                             find_partner_cb=lambda _: view)
    assert exc is None, exc
    return status, received, mdn


@pytest.mark.parametrize(("cipher", "digest", "compress", "before"), [
    ("aes128_cbc", "sha256", True, True),
    ("aes256_cbc", "sha256", True, False),
    ("aes192_cbc", "sha384", False, True),
    ("tripledes_cbc", "sha1", True, True),
])
def test_pyas2lib_opens_our_messages_and_its_mdn_verifies(ours, theirs, cipher, digest,
                                                          compress, before) -> None:
    built = our_message(ours, theirs, BINARY, content_type="application/octet-stream",
                        cipher=cipher, digest=digest, compress=compress,
                        compress_before_sign=before)
    status, received, mdn = _pyas2lib_receives(ours, theirs, built)
    assert status == "processed"
    assert received.content == BINARY
    assert received.encrypted and received.signed and received.compressed == compress
    assert received.mic.decode() == built.mic.value
    top = mime.Entity((("Content-Type", mdn.headers["Content-Type"]),), mdn.content)
    parsed = read_mdn(top, trusted=[theirs.cert], require_signed=True)
    assert parsed.original_message_id == "m-1@edigate.as2"
    assert parsed.disposition == PROCESSED
    assert built.mic.matches(parsed.mic)


def test_text_payload_is_signed_in_canonical_form(ours, theirs) -> None:
    built = our_message(ours, theirs, b"line one\nline two\n", content_type="text/plain",
                        encrypt=False)
    _, received, _ = _pyas2lib_receives(ours, theirs, built, encrypt=False)
    assert received.content == b"line one\r\nline two\r\n"
    # MIC = digest over the signed entity exactly: our headers + the CRLF content.
    entity = (b'Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n'
              b'Content-Disposition: attachment; filename="orders.edi"\r\n\r\n'
              b"line one\r\nline two\r\n")
    expected = base64.b64encode(hashlib.sha256(entity).digest()).decode()
    assert built.mic.value == expected


def test_unsigned_unencrypted_mic_covers_the_content_only(ours, theirs) -> None:
    built = our_message(ours, theirs, BINARY, sign=False, encrypt=False,
                        content_type="application/octet-stream")
    assert built.mic.value == base64.b64encode(hashlib.sha256(BINARY).digest()).decode()


# -- openssl cms as an independent verifier -------------------------------------------------------

def test_openssl_decrypts_and_verifies_our_message(ours, theirs, tmp_path: Path) -> None:
    # make test installs openssl (scripts/ensure-system-deps.sh); without it this must fail.
    assert shutil.which("openssl"), "openssl not found: run scripts/ensure-system-deps.sh"
    built = our_message(ours, theirs, BINARY, content_type="application/octet-stream",
                        cipher="aes256_cbc")
    (tmp_path / "msg.der").write_bytes(built.body)
    (tmp_path / "partner.pem").write_bytes(theirs.cert_pem)
    (tmp_path / "partner.key").write_bytes(theirs.key_pem)
    (tmp_path / "ours.pem").write_bytes(ours.cert_pem)

    def openssl(*args: str) -> None:
        done = subprocess.run(["openssl", "cms", *args], cwd=tmp_path, capture_output=True,
                              timeout=60, check=False)
        assert done.returncode == 0, done.stderr.decode()

    openssl("-decrypt", "-binary", "-inform", "DER", "-in", "msg.der", "-recip", "partner.pem",
            "-inkey", "partner.key", "-out", "signed.eml")
    openssl("-verify", "-binary", "-crlfeol", "-in", "signed.eml", "-CAfile", "ours.pem",
            "-purpose", "any", "-out", "content.bin")
    content = (tmp_path / "content.bin").read_bytes()
    assert content.endswith(b"\r\n\r\n" + BINARY)
    assert base64.b64encode(hashlib.sha256(content).digest()).decode() == built.mic.value


# -- refusals -----------------------------------------------------------------------------------

def test_tampered_content_fails_the_integrity_check(ours, theirs) -> None:
    built = our_message(ours, theirs, EDI, encrypt=False)
    tampered = built.body.replace(b"UNB+UNOC:3", b"UNB+UNOC:4")
    assert tampered != built.body
    top = mime.Entity((("Content-Type", dict(built.headers)["Content-Type"]),), tampered)
    with pytest.raises(IntegrityCheckFailed, match="message digest"):
        open_message(top, ours=[theirs.pair], trusted=[ours.cert], policy=SecurityPolicy())


def test_signature_by_an_unregistered_certificate_is_refused(ours, theirs) -> None:
    stranger = make_identity("STRANGER")
    built = build_message(EDI, message_id="x@y", as2_from="X", as2_to="Y", now=NOW,
                          options=OutboundOptions(encrypt=False), mdn=MdnRequest(),
                          signer=stranger.pair)
    top = mime.Entity((("Content-Type", dict(built.headers)["Content-Type"]),), built.body)
    with pytest.raises(AuthenticationFailed, match="not registered"):
        open_message(top, ours=[ours.pair], trusted=[theirs.cert], policy=SecurityPolicy())


def test_message_for_another_certificate_fails_decryption(ours, theirs) -> None:
    built = our_message(ours, make_identity("SOMEONE-ELSE"))
    top = mime.Entity((("Content-Type", dict(built.headers)["Content-Type"]),), built.body)
    with pytest.raises(DecryptionFailed, match="not encrypted for any of our"):
        open_message(top, ours=[theirs.pair], trusted=[ours.cert], policy=STRICT)


def test_policy_refuses_unsigned_and_unencrypted(ours, theirs) -> None:
    built = our_message(ours, theirs, sign=False)
    top = mime.Entity((("Content-Type", dict(built.headers)["Content-Type"]),), built.body)
    with pytest.raises(InsufficientSecurity, match="signed"):
        open_message(top, ours=[theirs.pair], trusted=[ours.cert], policy=STRICT)
    plain = mime.Entity((("Content-Type", "application/edifact"),), EDI)
    with pytest.raises(InsufficientSecurity, match="encrypted"):
        open_message(plain, ours=[theirs.pair], trusted=[ours.cert], policy=STRICT)


def test_decompression_bomb_is_refused() -> None:
    bomb = cms.compress(b"Content-Type: text/plain\r\n\r\n" + b"\0" * (4 << 20))
    assert len(bomb) < 10_000
    top = mime.Entity((("Content-Type",
                        "application/pkcs7-mime; smime-type=compressed-data"),), bomb)
    with pytest.raises(DecompressionFailed, match="exceeds the limit"):
        open_message(top, ours=[], trusted=[], policy=SecurityPolicy(max_content_bytes=1 << 20))


def test_truncated_compressed_data_is_refused() -> None:
    inner = zlib.compress(b"Content-Type: text/plain\r\n\r\nhello" * 100)[:-10]
    der = acms.ContentInfo({"content_type": "compressed_data", "content": acms.CompressedData({
        "version": "v0", "compression_algorithm": {"algorithm": "zlib"},
        "encap_content_info": {"content_type": "data",
                               "content": acms.ParsableOctetString(inner)}})}).dump()
    with pytest.raises(DecompressionFailed):
        cms.decompress(der, limit=1 << 20)


@pytest.mark.parametrize(("ctype", "body"), [
    ("application/pkcs7-mime; smime-type=enveloped-data", b"\x30\x80garbage"),
    ("application/pkcs7-mime; smime-type=enveloped-data", b""),
    ("multipart/signed; boundary=abc", b"no boundaries here"),
    ("multipart/signed; boundary=abc", b"--abc\r\nContent-Type: text/plain\r\n\r\nx\r\n--abc--"),
    ("multipart/signed", b"--abc\r\n\r\n"),
    ("application/pkcs7-mime; smime-type=signed-data", b"\x30\x03\x02\x01\x01"),
])
def test_malformed_input_gives_a_clear_error(ours, theirs, ctype, body) -> None:
    top = mime.Entity((("Content-Type", ctype),), body)
    with pytest.raises((MalformedMessage, DecryptionFailed)) as caught:
        open_message(top, ours=[ours.pair], trusted=[theirs.cert], policy=SecurityPolicy())
    assert str(caught.value)


def test_rc2_and_unknown_algorithms_are_named(ours, theirs) -> None:
    with pytest.raises(UnsupportedAlgorithm, match="rc2"):
        our_message(ours, theirs, cipher="rc2_128_cbc")
    with pytest.raises(UnsupportedAlgorithm, match="md4"):
        our_message(ours, theirs, digest="md4")


# -- MDNs -------------------------------------------------------------------------------------

def test_mdn_round_trip_with_failure_disposition(ours, theirs) -> None:
    failure = Disposition("processed", "error", "decryption-failed")
    mdn = build_mdn(original_message_id="<abc@x>", original_recipient=OUR_AS2, as2_from=OUR_AS2,
                    as2_to=PARTNER_AS2, disposition=failure, mic=None, message_id="m@e",
                    now=NOW, signer=ours.pair, digest="sha384")
    top = mime.Entity((("Content-Type", dict(mdn.headers)["Content-Type"]),), mdn.body)
    assert looks_like_mdn(dict(mdn.headers)["Content-Type"], mdn.body)
    parsed = read_mdn(top, trusted=[ours.cert], require_signed=True)
    assert parsed.original_message_id == "abc@x"
    assert parsed.disposition == failure and not parsed.disposition.ok
    assert parsed.mic is None and parsed.signed
    with pytest.raises(MdnError, match="does not verify"):
        read_mdn(top, trusted=[theirs.cert], require_signed=True)


def test_unsigned_mdn_is_refused_when_a_signed_one_was_asked_for() -> None:
    mdn = build_mdn(original_message_id="a@b", original_recipient=OUR_AS2, as2_from=OUR_AS2,
                    as2_to=PARTNER_AS2, disposition=DUPLICATE, mic=compute_mic(b"x", "sha1"),
                    message_id="m@e", now=NOW)
    top = mime.Entity((("Content-Type", dict(mdn.headers)["Content-Type"]),), mdn.body)
    assert read_mdn(top, trusted=[], require_signed=False).disposition == DUPLICATE
    with pytest.raises(MdnError, match="not signed"):
        read_mdn(top, trusted=[], require_signed=True)


@pytest.mark.parametrize("body", [b"", b"hello", b"--b\r\nContent-Type: text/plain\r\n\r\nx"])
def test_garbage_mdn_raises_mdn_error(body) -> None:
    top = mime.Entity((("Content-Type", "multipart/report; boundary=b"),), body)
    with pytest.raises(MdnError):
        read_mdn(top, trusted=[], require_signed=False)


def test_receipt_options_parse_preference_order() -> None:
    options = parse_receipt_options("signed-receipt-protocol=optional, pkcs7-signature; "
                                    "signed-receipt-micalg=optional, sha-512, sha1, md4")
    assert options.signed and options.micalgs == ("sha512", "sha1")
    assert parse_receipt_options("").signed is False
    assert parse_receipt_options("").mic_algorithm == "sha256"


# -- building blocks ------------------------------------------------------------------------

@pytest.mark.parametrize("size", [0, 100, 70_000, 2_000_000])
def test_hand_encoded_compressed_data_is_the_asn1crypto_der(size) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    reference = acms.ContentInfo({"content_type": "compressed_data",
                                  "content": acms.CompressedData({
                                      "version": "v0", "compression_algorithm": {
                                          "algorithm": "zlib"},
                                      "encap_content_info": {
                                          "content_type": "data",
                                          "content": acms.ParsableOctetString(
                                              zlib.compress(data))}})}).dump()
    assert cms.compress(data) == reference
    assert cms.decompress(reference, limit=size + 1) == data


def test_multipart_split_is_byte_exact() -> None:
    body = (b"preamble --b is not a delimiter\r\n--b\r\nContent-Type: a/b\r\n\r\none\n--b-x\r\n"
            b"\r\n--b  \r\nContent-Type: c/d\r\n\r\ntwo\r\n\r\n--b--\r\nepilogue\r\n--b\r\n")
    assert mime.split_multipart(body, "b") == [
        b"Content-Type: a/b\r\n\r\none\n--b-x\r\n",
        b"Content-Type: c/d\r\n\r\ntwo\r\n"]
    lf_only = b"--q\nContent-Type: a/b\n\nx\n--q\nContent-Type: c/d\n\ny\n--q--\n"
    assert mime.split_multipart(lf_only, "q") == [b"Content-Type: a/b\n\nx",
                                                  b"Content-Type: c/d\n\ny"]
