"""Small builders of X12 and EDIFACT test interchanges (one message, faults written by hand)."""

from __future__ import annotations

from typing import Any

X12_HEADER = ("ISA*00*          *00*          *ZZ*BUYER          *ZZ*SUPPLIER       *260101*1200*"
              "U*00401*000000123*0*P*>~GS*PO*BUYER*SUPPLIER*20260101*1200*77*X*{version}~")


def x12(body: list[str], *, message: str = "850", version: str = "004010",
        control: str = "0001", group_id: str = "PO") -> bytes:
    """An interchange around one transaction set; SE01 counts the segments given."""
    header = X12_HEADER.format(version=version).replace("GS*PO", f"GS*{group_id}")
    if version >= "005010":
        header = header.replace("*U*00401*", "*^*00501*")
    segments = [f"ST*{message}*{control}", *body]
    segments.append(f"SE*{len(segments) + 1}*{control}")
    return (header + "~".join(segments) + "~GE*1*77~IEA*1*000000123~").encode()


PO_850 = [
    "BEG*00*SA*PO-1001**20260105",
    "N1*ST*PLANT ONE*92*P1",
    "PO1*1*10*EA*2.5**BP*PART-1*VP*SUP-1",
    "PO1*2*5*EA*1.25**BP*PART-2",
    "CTT*2",
]


def edifact(body: list[str], *, message: str = "ORDERS", version: str = "D:96A",
            syntax: str = "UNOC:3", ref: str = "M1") -> bytes:
    segments = [f"UNH+{ref}+{message}:{version}:UN", *body]
    segments.append(f"UNT+{len(segments) + 1}+{ref}")
    return ("UNA:+.? 'UNB+" + syntax + "+BUYER:14+SUPPLIER:14+260101:1200+IC42'"
            + "'".join(segments) + "'UNZ+1+IC42'").encode()


ORDERS = [
    "BGM+220+PO-2001+9",
    "DTM+137:20260105:102",
    "NAD+BY+5412345000013::9",
    "LIN+1++4000862141404:SRS",
    "QTY+21:48:PCE",
    "UNS+S",
    "CNT+2:1",
]


def without_identifiers(value: Any) -> Any:
    """``value`` without the ``identifiers`` lists (tests assert those on their own)."""
    if isinstance(value, list):
        return [without_identifiers(item) for item in value]
    if isinstance(value, dict):
        return {k: without_identifiers(v) for k, v in value.items() if k != "identifiers"}
    return value
