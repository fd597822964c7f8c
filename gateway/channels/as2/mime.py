"""Just enough MIME for AS2, on bytes: signatures cover exact bytes, so nothing is re-serialised.

``email`` is used only to read header parameters; bodies and multipart parts are cut out of the
original bytes, because re-serialising a part (as ``email`` would) changes folding, quoting or
line endings and breaks the signature.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import quopri
import re
import secrets
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

from gateway.channels.as2.errors import MalformedMessage

_BARE_LF = re.compile(rb"(?<!\r)\n")
_BARE_CR = re.compile(rb"\r(?!\n)")


@dataclass(frozen=True)
class Entity:
    """A MIME entity: its header lines in order and its body bytes exactly as received."""

    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str, default: str = "") -> str:
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return default

    def _parsed(self) -> Message:
        msg = Message(policy=compat32)
        for key, value in self.headers:
            msg[key] = value
        return msg

    @property
    def content_type(self) -> str:
        return self._parsed().get_content_type() if self.header("Content-Type") else "text/plain"

    def param(self, name: str) -> str:
        value = self._parsed().get_param(name, header="content-type")
        if isinstance(value, tuple):  # RFC 2231 encoded
            value = value[2]
        return str(value) if value is not None else ""

    def decoded_body(self) -> bytes:
        return decode_transfer(self.body, self.header("Content-Transfer-Encoding"))


def decode_transfer(body: bytes, encoding: str) -> bytes:
    enc = encoding.strip().lower()
    if enc == "base64":
        try:
            return base64.b64decode(re.sub(rb"\s+", b"", body), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedMessage(f"invalid base64 body: {exc}") from None
    if enc == "quoted-printable":
        return quopri.decodestring(body)
    if enc in ("", "7bit", "8bit", "binary"):
        return body
    raise MalformedMessage(f"unsupported Content-Transfer-Encoding {encoding!r}")


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    # The first empty line ends the headers; accept LF-only input from sloppy peers.
    crlf = data.find(b"\r\n\r\n")
    lf = data.find(b"\n\n")
    if data.startswith((b"\r\n", b"\n")):
        return b"", data[2:] if data.startswith(b"\r\n") else data[1:]
    if crlf == -1 and lf == -1:
        raise MalformedMessage("MIME entity has no empty line after its headers")
    if crlf != -1 and (lf == -1 or crlf < lf):
        return data[:crlf], data[crlf + 4:]
    return data[:lf], data[lf + 2:]


def parse_entity(data: bytes) -> Entity:
    head, body = _split_head(data)
    parsed = BytesHeaderParser(policy=compat32).parsebytes(head + b"\r\n\r\n")
    if parsed.defects and not parsed.keys():
        raise MalformedMessage("MIME headers cannot be parsed")
    headers = tuple((k, " ".join(str(v).split())) for k, v in parsed.items())
    return Entity(headers, body)


def split_multipart(body: bytes, boundary: str) -> list[bytes]:
    """The exact bytes of each part (headers + body), without the CRLF before a delimiter."""
    if not boundary:
        raise MalformedMessage("multipart entity without a boundary parameter")
    try:
        delimiter = b"--" + boundary.encode("ascii")
    except UnicodeEncodeError:
        raise MalformedMessage(f"boundary {boundary!r} is not ASCII") from None
    # (start of the delimiter line incl. its leading line break, end of the delimiter line,
    # closing?) for every delimiter that begins a line. bytes.find keeps this linear and fast.
    found: list[tuple[int, int, bool]] = []
    at = body.find(delimiter)
    while at != -1:
        if at == 0 or body[at - 1:at] == b"\n":
            start = at - 2 if at >= 2 and body[at - 2:at] == b"\r\n" else max(at - 1, 0)
            after = at + len(delimiter)
            closing = body[after:after + 2] == b"--"
            line_end = body.find(b"\n", after)
            tail = body[after + (2 if closing else 0):len(body) if line_end == -1 else line_end]
            if not tail.strip(b" \t\r"):
                found.append((start, len(body) if line_end == -1 else line_end + 1, closing))
        at = body.find(delimiter, at + 1)
    if len(found) < 2:
        raise MalformedMessage(f"multipart body lacks the boundary {boundary!r}")
    parts: list[bytes] = []
    for (_, end, closing), (next_start, _, _) in itertools.pairwise(found):
        if closing:
            break
        parts.append(body[end:next_start])
    if not parts:
        raise MalformedMessage("multipart body has no parts")
    return parts


def render_headers(headers: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> bytes:
    for key, value in headers:
        if "\r" in value or "\n" in value or "\r" in key or "\n" in key:
            raise ValueError(f"header {key!r} contains a line break")
    return b"".join(f"{k}: {v}\r\n".encode() for k, v in headers)


def entity_bytes(headers: list[tuple[str, str]], body: bytes) -> bytes:
    return render_headers(headers) + b"\r\n" + body


def canonical_text(data: bytes) -> bytes:
    """RFC 5751 canonical form for text: every line ends in CRLF."""
    return _BARE_LF.sub(b"\r\n", _BARE_CR.sub(b"\r\n", data))


def new_boundary() -> str:
    return f"----=_edigate_{secrets.token_hex(12)}"


def is_text(content_type: str) -> bool:
    return content_type.lower().startswith("text/")
