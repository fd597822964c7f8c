"""Small, valid interchanges from the demo partners, generated with distinct control numbers."""

from __future__ import annotations


def x12_850(control: int, *, sender: str = "BOLTSUPPLY", receiver: str = "EDIGATE",
            lines: int = 1, quantity: int = 100) -> bytes:
    """An X12 004010 850 (one ISA/GS/ST) from ``sender``; control numbers from ``control``."""
    isa = (f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender:<15}*ZZ*{receiver:<15}*261122*1200*U*00401*"
           f"{control:09d}*0*P*>~")
    body = [f"BEG*00*SA*PO{control:07d}**20261122~"]
    for n in range(1, lines + 1):
        body.append(f"PO1*{n}*{quantity}*EA*2.5**BP*PART-{n:03d}~")
    body.append(f"CTT*{lines}~")
    st = ["ST*850*0001~", *body, f"SE*{len(body) + 2}*0001~"]
    segments = [isa, f"GS*PO*{sender}*{receiver}*20261122*1200*{control}*X*004010~", *st,
                f"GE*1*{control}~", f"IEA*1*{control:09d}~"]
    return "\n".join(segments).encode("ascii") + b"\n"
