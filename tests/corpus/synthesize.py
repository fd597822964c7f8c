"""Writes the synthetic files of the test corpus (``synthetic_*``), written for this project.

They stand in for public sample files whose licence does not allow shipping them in an
Apache-2.0 project, and keep every trait the tests rely on (encodings, delimiters, envelopes,
byte-order marks, several interchanges in one file, release characters, wrapped lines). The
partners, parts and numbers are invented but shaped like real traffic: GLNs and GTINs carry
correct GS1 check digits except where a file says otherwise.

    python tests/corpus/synthesize.py        # rewrites tests/corpus/*/synthetic_*

The committed files are the reference; this script documents how they were made.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
BOM = "\ufeff"


def check_digit(body: str) -> str:
    """GS1 mod-10: weights 3,1 from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def gln(body12: str) -> str:
    return body12 + check_digit(body12)


def gtin(body12: str) -> str:
    return body12 + check_digit(body12)


def sscc(serial: int) -> str:
    """Extension digit 3, the supplier's company prefix 4019876, a nine-digit serial."""
    body = f"34019876{serial:09d}"
    return body + check_digit(body)


# ----------------------------------------------------------------------------------- parties

BUYER = gln("401234500010")      # Nordwerk Antriebe GmbH, Bielefeld (buyer, invoicee)
PLANT = gln("401234500201")      # Nordwerk plant 2, Gütersloh (delivery party)
KESSLER = gln("401987600001")    # Kessler Federn GmbH (supplier)
OOSTKAMP = gln("541234560000")   # Oostkamp Kunststoffen NV (supplier)
LUSITANA = gln("560123450003")   # Ferro Lusitana Lda (supplier)
TATRA = gln("859400120001")      # Tatra Odlitky s.r.o. (supplier)


# ------------------------------------------------------------------------------------- X12


def isa(sender: str, receiver: str, date: str, time: str, control: str, *,
        version: str = "00401", repetition: str = "U", component: str = ">",
        sep: str = "*", sq: str = "01", rq: str = "01", ack: str = "0",
        usage: str = "P") -> str:
    fields = ["ISA", "00", " " * 10, "00", " " * 10, sq, f"{sender:<15}", rq,
              f"{receiver:<15}", date, time, repetition, version, control, ack, usage,
              component]
    return sep.join(fields)


def x12(segments: list[str], *, sep: str = "*", term: str = "~", after: str = "") -> str:
    """Segments written with '*' are re-joined with ``sep``; ``after`` follows each terminator."""
    out = []
    for segment in segments:
        if segment.startswith("ISA"):
            out.append(segment + term + after)  # ISA is built with its own separator
        else:
            out.append(segment.replace("*", sep) + term + after)
    return "".join(out)


def st_se(kind: str, control: str, body: list[str]) -> list[str]:
    return [f"ST*{kind}*{control}", *body, f"SE*{len(body) + 2}*{control}"]


def gs(code: str, sender: str, receiver: str, date8: str, time: str, control: str,
       version: str, sets: list[list[str]]) -> list[str]:
    inner = [seg for s in sets for seg in s]
    return [f"GS*{code}*{sender}*{receiver}*{date8}*{time}*{control}*X*{version}", *inner,
            f"GE*{len(sets)}*{control}"]


def interchange(isa_segment: str, groups: list[list[str]], control: str) -> list[str]:
    return [isa_segment, *(seg for g in groups for seg in g), f"IEA*{len(groups)}*{control}"]


GREAT_LAKES = "061234567"  # Great Lakes Drivetrain Inc. (buyer), D-U-N-S
CASCADE = "118765432"      # Cascade Stamping Co. (supplier), D-U-N-S
PIEDMONT = "028811223"     # Piedmont Fastener Corp. (supplier), D-U-N-S
ORTEGA = "805551234"       # Ortega Plasticos S.A. de C.V. (supplier), D-U-N-S


DESCRIPTIONS = {
    "CS-M10-35": "HEX FLANGE BOLT M10X35 8.8 ZNNI", "CS-W10": "SPRING WASHER M10 DIN127",
    "CS-BRK-14": "MOTOR BRACKET 14GA STAMPED", "PF-NUT-M8": "HEX NUT M8 CL8 ZN",
    "PF-WSH-M8": "FLAT WASHER M8 DIN125", "PF-STUD-M12X120": "THREADED STUD M12X120",
    "PF-RIVET-4X10": "BLIND RIVET 4X10 AL/ST BOX 500", "PF-BOLT-M16X80": "HEX BOLT M16X80 10.9",
    "OP-CLIP-22": "HARNESS CLIP 22MM PA66", "OP-GROM-30": "CABLE GROMMET 30MM EPDM",
}


def po_850(number: str, date: str, lines: list[tuple[str, int, str, str, str, str]], *,
           ship_to: str = "0001", purpose: str = "00", kind: str = "SA",
           vics: bool = False) -> list[str]:
    """lines: (line, qty, unit, price, buyer part, supplier part)"""
    body = [f"BEG*{purpose}*{kind}*{number}**{date}", "CUR*BY*USD",
            f"REF*DP*{'0231' if vics else '410'}", f"REF*IA*{CASCADE}",
            "FOB*PP*ZZ*DOCK 4", "ITD*01*3*2**10**30", f"DTM*002*{date[:6]}{int(date[6:]) + 9:02d}",
            "TD5*****UPS GROUND",
            f"N1*BT*GREAT LAKES DRIVETRAIN INC*9*{GREAT_LAKES}0000",
            "N3*4400 INDUSTRIAL PKWY", "N4*TOLEDO*OH*43612*US",
            f"N1*ST*GREAT LAKES DRIVETRAIN PLANT 2*9*{GREAT_LAKES}{ship_to}",
            "N3*1200 MAUMEE RIVER RD", "N4*PERRYSBURG*OH*43551*US",
            "PER*BD*DANA OKAFOR*TE*4195550142*FX*4195550143"]
    for line, qty, unit, price, buyer_part, supplier_part in lines:
        body.append(f"PO1*{line}*{qty}*{unit}*{price}*PE*BP*{buyer_part}*VP*{supplier_part}"
                    f"*UP*{gtin('0' + buyer_part[-3:] + '12345678')[1:]}")
        body.append(f"PID*F****{DESCRIPTIONS.get(supplier_part, 'MACHINED BRACKET')}")
    body.append(f"CTT*{len(lines)}*{sum(q for _, q, *_ in lines)}")
    return body


def synthetic_x12() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    lines = [("1", 1200, "EA", "0.184", "GL-10035", "CS-M10-35"),
             ("2", 2500, "EA", "0.021", "GL-10010", "CS-W10"),
             ("3", 400, "EA", "1.37", "GL-22014", "CS-BRK-14")]

    # 850 with an LF segment terminator (no other line break).
    ic = interchange(isa(CASCADE, GREAT_LAKES, "260302", "0612", "000004711"), [
        gs("PO", GREAT_LAKES, CASCADE, "20260302", "0612", "4711", "004010",
           [st_se("850", "0001", po_850("4500123456", "20260302", lines))])], "000004711")
    ic[0] = isa(GREAT_LAKES, CASCADE, "260302", "0612", "000004711")
    files["synthetic_850_lf.x12"] = x12(ic, term="\n").encode("ascii")

    # 850 with '~' followed by CRLF.
    ic = interchange(isa(GREAT_LAKES, CASCADE, "260303", "0615", "000004712"), [
        gs("PO", GREAT_LAKES, CASCADE, "20260303", "0615", "4712", "004010",
           [st_se("850", "0001", po_850("4500123457", "20260303", lines[:2]))])], "000004712")
    files["synthetic_850_tilde_crlf.x12"] = x12(ic, term="~", after="\r\n").encode("ascii")

    # 850 whose envelope is 00302 (older than its 004010 group), component '@', LF.
    ic = interchange(isa(GREAT_LAKES, PIEDMONT, "260304", "1130", "000000318",
                         version="00302", component="@", ack="1"), [
        gs("PO", GREAT_LAKES, PIEDMONT, "20260304", "1130", "318", "004010",
           [st_se("850", "3180", po_850("4500123501", "20260304", [
               ("10", 6000, "EA", "0.042", "GL-30008", "PF-NUT-M8"),
               ("20", 6000, "EA", "0.011", "GL-30009", "PF-WSH-M8"),
               ("30", 800, "EA", "0.96", "GL-30120", "PF-STUD-M12X120"),
               ("40", 150, "BX", "18.5", "GL-30300", "PF-RIVET-4X10")],
               ship_to="0002"))])], "000000318")
    files["synthetic_850_00302_at.x12"] = x12(ic, term="\n").encode("ascii")

    # 850 with an ISA12 of 00200, '~' + LF.
    ic = interchange(isa(GREAT_LAKES, PIEDMONT, "260305", "0900", "000000319",
                         version="00200"), [
        gs("PO", GREAT_LAKES, PIEDMONT, "20260305", "0900", "319", "004010",
           [st_se("850", "3190", po_850("4500123502", "20260305", [
               ("1", 300, "EA", "2.15", "GL-30410", "PF-BOLT-M16X80")]))])], "000000319")
    files["synthetic_850_00200.x12"] = x12(ic, term="~", after="\n").encode("ascii")

    # VICS 850s: element separator 0x7F, terminator 0x15 (NAK), no line breaks, many orders.
    orders = []
    for n in range(6):
        number = f"77{41020 + n}"
        orders.append(st_se("850", f"{5201 + n:09d}", po_850(
            number, f"202603{10 + n:02d}",
            [(str(k + 1), 24 * (k + n + 1), "EA", f"{3.5 + k:.2f}", f"GL-5{n}{k:03d}",
              f"CS-{n}{k:03d}") for k in range(2 + n % 3)], kind="SA", vics=True)))
    ic = interchange(isa(GREAT_LAKES, CASCADE, "260310", "2245", "000002260", sep="\x7f",
                         sq="01", rq="ZZ"), [
        gs("PO", GREAT_LAKES, CASCADE, "20260310", "2245", "2260", "004010VICS", orders)],
        "000002260")
    files["synthetic_850_vics_del_nak.x12"] = x12(ic, sep="\x7f", term="\x15").encode("ascii")

    # EBCDIC (cp037) 850: 80-column records, each segment ended by 0x15 and padded.
    ic = interchange(isa("6125550100", "6125550199", "260306", "0730", "000000877",
                         sq="12", rq="12"), [
        gs("PO", "6125550100", "6125550199", "20260306", "0730", "877", "004010",
           [st_se("850", "0877", po_850("NE-260306", "20260306", lines[:1], kind="NE"))])],
        "000000877")
    records = []
    for segment in x12(ic, term="\x85").split("\x85")[:-1]:
        record = segment + "\x85"
        while len(record) > 80:  # the ISA is longer than a record: it continues on the next
            records.append(record[:80])
            record = record[80:]
        records.append(record.ljust(80))
    files["synthetic_850_ebcdic_80col.x12"] = "".join(records).encode("cp037")

    # 855: six acknowledgments in one group.
    sets = []
    for n in range(6):
        po = f"4500123{460 + n}"
        body = [f"BAK*00*{'AD' if n % 3 else 'AC'}*{po}*202603{5 + n:02d}****2026030{n % 9 + 1}",
                f"REF*VN*SO-88{120 + n}",
                f"N1*ST*GREAT LAKES DRIVETRAIN PLANT 2*9*{GREAT_LAKES}0001",
                f"N1*SU*CASCADE STAMPING CO*9*{CASCADE}0000"]
        for k in range(2):
            qty = 200 * (k + 1)
            body += [f"PO1*{k + 1}*{qty}*EA*{1.25 + k:.2f}**BP*GL-6{n}{k:02d}*VP*CS-6{n}{k:02d}",
                     f"ACK*{'IA' if n % 3 or k == 0 else 'IR'}*{qty if n % 3 or k == 0 else 0}"
                     f"*EA*068*20260{3 + k}{15 + n:02d}"]
        body.append("CTT*2")
        sets.append(st_se("855", f"{n + 1:04d}", body))
    ic = interchange(isa(CASCADE, GREAT_LAKES, "260311", "1604", "000003021"), [
        gs("PR", CASCADE, GREAT_LAKES, "20260311", "1604", "3021", "004010UCS", sets)],
        "000003021")
    files["synthetic_855_six_sets.x12"] = x12(ic, term="~", after="\r\n").encode("ascii")

    # 830 UCS planning schedule; BFR02 and BFR03 (reference and release numbers) left empty,
    # as some buyers send their weekly forecast.
    body = ["BFR*05***DL*A*20260316*20260614*20260313",
            f"N1*ST*GREAT LAKES DRIVETRAIN PLANT 2*9*{GREAT_LAKES}0001",
            f"N1*SU*CASCADE STAMPING CO*9*{CASCADE}0000"]
    for k, part in enumerate(["GL-10035", "GL-22014"]):
        body += [f"LIN**BP*{part}*VP*CS-{part[3:]}", "UIT*EA", "PER*SC*RAY NAKAMURA*TE*4195550177",
                 ]
        for week in range(4):
            day = 16 + 7 * week
            month, day = (3, day) if day <= 31 else (4, day - 31)
            end = day + 6
            body.append(f"FST*{(1200 - 300 * k) + 100 * week}*{'C' if week == 0 else 'D'}*W*"
                        f"20260{month}{day:02d}*20260{month if end <= 31 else month + 1}"
                        f"{end if end <= 31 else end - 31:02d}")
        body.append(f"SHP*02*{14400 - 4000 * k}*011*20260313")
    body.append("CTT*2")
    ic = interchange(isa(GREAT_LAKES, CASCADE, "260313", "0500", "000000905"), [
        gs("PS", GREAT_LAKES, CASCADE, "20260313", "0500", "905", "004010UCS",
           [st_se("830", "9050001", body)])], "000000905")
    files["synthetic_830_ucs.x12"] = x12(ic, term="~", after="\r\n").encode("ascii")

    # 856 and 810 with ISA11 '^' (00403 repetition separator).
    asn = ["BSN*00*SH-2603-0117*20260318*1420*0001",
           "HL*1**S", "TD1*CTN25*4****G*182.4*LB", "TD5*B*2*UPSN*M*UPS GROUND",
           "REF*BM*1Z9W4R280361245511", "DTM*011*20260318*1420",
           f"N1*ST*GREAT LAKES DRIVETRAIN PLANT 2*9*{GREAT_LAKES}0001",
           f"N1*SF*CASCADE STAMPING CO*9*{CASCADE}0000",
           "HL*2*1*O", "PRF*4500123456***20260302",
           "HL*3*2*P", "MAN*GM*00012345670000011758",
           "HL*4*3*I", "LIN*1*BP*GL-10035*VP*CS-M10-35", "SN1*1*1200*EA",
           "HL*5*2*P", "MAN*GM*00012345670000011765",
           "HL*6*5*I", "LIN*2*BP*GL-10010*VP*CS-W10", "SN1*2*2500*EA",
           "CTT*6"]
    ic = interchange(isa(CASCADE, GREAT_LAKES, "260318", "1421", "000000412",
                         version="00403", repetition="^"), [
        gs("SH", CASCADE, GREAT_LAKES, "20260318", "1421", "412", "004030",
           [st_se("856", "4120", asn)])], "000000412")
    files["synthetic_856_caret_00403.x12"] = x12(ic, term="~", after="\n").encode("ascii")
    invoice = ["BIG*20260319*INV-260319-044*20260302*4500123456",
               "CUR*SE*USD", "REF*IA*4471",
               f"N1*RE*CASCADE STAMPING CO*9*{CASCADE}0000",
               f"N1*BT*GREAT LAKES DRIVETRAIN INC*9*{GREAT_LAKES}0000",
               "N3*4400 INDUSTRIAL PKWY", "N4*TOLEDO*OH*43612*US",
               "ITD*01*3*2**10**30",
               "IT1*1*1200*EA*0.184**BP*GL-10035*VP*CS-M10-35",
               "IT1*2*2500*EA*0.021**BP*GL-10010*VP*CS-W10",
               "TDS*27330", "CAD*M****UPSN", "CTT*2"]
    ic = interchange(isa(CASCADE, GREAT_LAKES, "260319", "0810", "000000413",
                         version="00403", repetition="^"), [
        gs("IN", CASCADE, GREAT_LAKES, "20260319", "0810", "413", "004030",
           [st_se("810", "4130", invoice)])], "000000413")
    files["synthetic_810_caret_00403.x12"] = x12(ic, term="~", after="\n").encode("ascii")

    # 997 on one line, terminator 0x15.
    ack = ["AK1*PO*2260", *(s for n in range(6) for s in (f"AK2*850*{5201 + n:09d}", "AK5*A")),
           "AK9*A*6*6*6"]
    ic = interchange(isa(CASCADE, GREAT_LAKES, "260310", "2301", "000001902", rq="ZZ"), [
        gs("FA", CASCADE, GREAT_LAKES, "20260310", "2301", "1902", "004010VICS",
           [st_se("997", "19020001", ack)])], "000001902")
    files["synthetic_997_nak.x12"] = x12(ic, term="\x15").encode("ascii")

    # The same interchange sent twice in one file (a resend glued to the original).
    ic = interchange(isa(ORTEGA, GREAT_LAKES, "260320", "0955", "000000264", sq="01"), [
        gs("PO", ORTEGA, GREAT_LAKES, "20260320", "0955", "264", "004010",
           [st_se("850", "0001", po_850("OP-2026-0311", "20260320", [
               ("1", 5000, "EA", "0.31", "GL-71001", "OP-CLIP-22")]))])], "000000264")
    once = x12(ic, term="~", after="\r\n")
    files["synthetic_duplicate_interchange.x12"] = (once + once).encode("ascii")

    # 856 and 855 with a UTF-8 byte-order mark (saved by a Windows editor).
    asn = ["BSN*00*ASN0000917*20260321*0640",
           "HL*1**S", "TD1*PLT94*2****G*1460*LB", "TD5*B*2*ODFL*M*OLD DOMINION",
           "REF*BM*0093381722", "DTM*011*20260321",
           f"N1*ST*GREAT LAKES DRIVETRAIN INC*9*{GREAT_LAKES}0000",
           "HL*2*1*O", "PRF*4500123501",
           "HL*3*2*I", "LIN*10*BP*GL-30008*VP*PF-NUT-M8", "SN1*10*6000*EA",
           "HL*4*2*I", "LIN*20*BP*GL-30009*VP*PF-WSH-M8", "SN1*20*6000*EA",
           "CTT*4"]
    ic = interchange(isa(PIEDMONT, GREAT_LAKES, "260321", "0641", "000000551"), [
        gs("SH", PIEDMONT, GREAT_LAKES, "20260321", "0641", "551", "004010",
           [st_se("856", "5510", asn)])], "000000551")
    files["synthetic_856_bom.x12"] = (BOM + x12(ic, term="~", after="\r\n")).encode("utf-8")
    body = ["BAK*00*AC*4500123501*20260305", "REF*VN*PF-SO-20931",
            f"N1*SU*PIEDMONT FASTENER CORP*9*{PIEDMONT}0000",
            "PO1*10*6000*EA*0.042**BP*GL-30008*VP*PF-NUT-M8", "ACK*IA*6000*EA*068*20260321",
            "PO1*20*6000*EA*0.011**BP*GL-30009*VP*PF-WSH-M8", "ACK*IA*6000*EA*068*20260321",
            "PO1*30*800*EA*0.96**BP*GL-30120*VP*PF-STUD-M12X120",
            "ACK*IQ*800*EA*068*20260404",
            "PO1*40*150*BX*18.5**BP*GL-30300*VP*PF-RIVET-4X10", "ACK*IR*0*BX",
            "CTT*4"]
    ic = interchange(isa(PIEDMONT, GREAT_LAKES, "260305", "1702", "000000552"), [
        gs("PR", PIEDMONT, GREAT_LAKES, "20260305", "1702", "552", "004010",
           [st_se("855", "5520", body)])], "000000552")
    files["synthetic_855_bom.x12"] = (BOM + x12(ic, term="~", after="\r\n")).encode("utf-8")

    # A mailbag: four interchanges from three senders, each with its own terminator.
    parts = [files["synthetic_997_nak.x12"].decode("ascii"), "\r\n"]
    ic = interchange(isa(PIEDMONT, GREAT_LAKES, "260322", "0300", "000000553"), [
        gs("SH", PIEDMONT, GREAT_LAKES, "20260322", "0300", "553", "004010",
           [st_se("856", "5530", asn)])], "000000553")
    parts.append(x12(ic, term="~"))
    ic = interchange(isa(GREAT_LAKES, ORTEGA, "260322", "0301", "000000265", component=":"), [
        gs("PO", GREAT_LAKES, ORTEGA, "20260322", "0301", "265", "004010",
           [st_se("850", "0001", po_850("4500124001", "20260322", [
               ("1", 5000, "EA", "0.31", "GL-71001", "OP-CLIP-22")])),
            st_se("850", "0002", po_850("4500124002", "20260322", [
                ("1", 1800, "EA", "0.52", "GL-71020", "OP-GROM-30")]))])], "000000265")
    parts.append(x12(ic, term="\x15", after="\r\n"))
    ic = interchange(isa(CASCADE, GREAT_LAKES, "260322", "0302", "000003022"), [
        gs("PR", CASCADE, GREAT_LAKES, "20260322", "0302", "3022", "004010",
           [sets[0]])], "000003022")
    parts.append(x12(ic, term="\n"))
    files["synthetic_mailbag.x12"] = "".join(parts).encode("ascii")
    return files


# --------------------------------------------------------------------------------- EDIFACT


def edi(segments: list[str], *, after: str = "", term: str = "'") -> str:
    return "".join(s + term + after for s in segments)


def unh_unt(ref: str, kind: str, body: list[str]) -> list[str]:
    return [f"UNH+{ref}+{kind}", *body, f"UNT+{len(body) + 2}+{ref}"]


def unb(charset: str, sender: str, receiver: str, stamp: str, ref: str, *,
        sq: str = "14", rq: str = "14", tail: str = "") -> str:
    return f"UNB+{charset}+{sender}:{sq}+{receiver}:{rq}+{stamp}+{ref}{tail}"


def orders_body(number: str, date: str, buyer: str, supplier: str, delivery: str,
                lines: list[tuple[str, str, int]], *, function: str = "9",
                delivery_date: str = "", currency: str = "EUR") -> list[str]:
    body = [f"BGM+220+{number}+{function}", f"DTM+137:{date}:102"]
    if delivery_date:
        body.append(f"DTM+2:{delivery_date}:102")
    body += [f"NAD+BY+{buyer}::9", f"NAD+SU+{supplier}::9", f"NAD+DP+{delivery}::9",
             f"CUX+2:{currency}:9"]
    for line, item, qty in lines:
        body += [f"LIN+{line}++{item}:SRV", f"QTY+21:{qty}"]
    body += ["UNS+S", f"CNT+2:{len(lines)}"]
    return body


def synthetic_edifact() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    kessler_items = [gtin("401987600101"), gtin("401987600118"), gtin("401987600125"),
                     gtin("401987600132")]

    # ORDERS D96A without UNA, two messages, CRLF.
    msgs = []
    for n, (number, lines) in enumerate([
            ("NW4500201", [("1", kessler_items[0], 2400), ("2", kessler_items[1], 600)]),
            ("NW4500202", [("1", kessler_items[2], 150), ("2", kessler_items[3], 1000),
                           ("3", kessler_items[0], 800)])]):
        body = orders_body(number, "20260302", BUYER, KESSLER, PLANT, lines,
                           delivery_date=f"2026031{n}")
        body.insert(3, "RFF+CT:RV-2024-017")
        msgs += unh_unt(f"{n + 1}", "ORDERS:D:96A:UN:EAN008", body)
    files["synthetic_orders_d96a_no_una.edi"] = edi(
        [unb("UNOA:2", BUYER, KESSLER, "260302:0715", "NW0000301"), *msgs,
         "UNZ+2+NW0000301"], after="\r\n").encode("ascii")

    # Two interchanges in one file (2 + 1 messages), the first CRLF, the second LF.
    first = []
    for n in range(2):
        first += unh_unt(f"M{n + 1}", "ORDERS:D:96A:UN:EAN008", orders_body(
            f"NW45003{n + 10}", "20260303", BUYER, OOSTKAMP, PLANT,
            [("1", gtin(f"54123456{1000 + n}"), 500 * (n + 1))]))
    second = unh_unt("M1", "ORDERS:D:96A:UN:EAN008", orders_body(
        "NW4500312", "20260303", BUYER, OOSTKAMP, BUYER,
        [("1", gtin("541234561002"), 320), ("2", gtin("541234561019"), 40)]))
    files["synthetic_orders_two_interchanges.edi"] = (
        edi([unb("UNOA:2", BUYER, OOSTKAMP, "260303:1010", "NW0000302"), *first,
             "UNZ+2+NW0000302"], after="\r\n")
        + edi([unb("UNOA:2", BUYER, OOSTKAMP, "260303:1011", "NW0000303"), *second,
               "UNZ+1+NW0000303"], after="\n")).encode("ascii")

    # 24 interchanges in one file, one order each: a day of call-offs from the buyer's ERP.
    # The 17th cancels an order, with no line.
    text = ""
    for n in range(24):
        ref = f"NW{260304}{n + 1:03d}"
        number = f"NW45004{n:02d}"
        if n == 16:
            body = ["BGM+220+NW4500399+1", "DTM+137:20260304:102", f"NAD+BY+{BUYER}::9",
                    f"NAD+SU+{TATRA}::9", "UNS+S"]
        else:
            body = orders_body(number, "20260304", BUYER, TATRA, PLANT,
                               [("1", gtin(f"85940012{2000 + n}"), 10 * (n + 1))],
                               delivery_date=f"202604{n + 1:02d}")
        text += edi([unb("UNOA:2", BUYER, TATRA, f"260304:{6 + n // 4:02d}{(n % 4) * 15:02d}",
                         ref),
                     *unh_unt(f"{n + 1}", "ORDERS:D:96A:UN:EAN008", body), f"UNZ+1+{ref}"],
                    after="\r\n")
    files["synthetic_orders_24_interchanges.edi"] = text.encode("ascii")

    # UNA, UNOC:3, nine messages on one interchange; the party ids are the supplier's test
    # GLNs, with wrong check digits, as sample files from a partner's test system often are.
    fake_buyer, fake_supplier, fake_delivery = "4012345000012", "4019876000004", "4012345002015"
    msgs = []
    for n in range(9):
        msgs += unh_unt(f"{200 + n}", "ORDERS:D:96A:UN:EAN008", orders_body(
            f"TST-{7100 + n}", "20260305", fake_buyer, fake_supplier, fake_delivery,
            [("1", kessler_items[n % 4], 100 + 25 * n)], delivery_date="20260320"))
    files["synthetic_orders_una_unoc_9msgs.edi"] = edi(
        ["UNA:+.? ", unb("UNOC:3", fake_buyer, fake_supplier, "260305:1402", "9"), *msgs,
         "UNZ+9+9"], after="\n").encode("latin-1")

    # INVOIC D96A, two invoices.
    msgs = []
    for n, lines in enumerate([[(kessler_items[0], 2400, "0.42"), (kessler_items[1], 600, "0.18")],
                               [(kessler_items[2], 150, "3.95")]]):
        net = sum(q * float(p) for _, q, p in lines)
        tax = round(net * 0.19, 2)
        body = [f"BGM+380+KF26-00{481 + n}+9", "DTM+137:20260312:102", "DTM+35:20260311:102",
                f"RFF+ON:NW450020{n + 1}", f"NAD+SU+{KESSLER}::9", "RFF+VA:DE811234567",
                f"NAD+BY+{BUYER}::9", "RFF+VA:DE129876543", f"NAD+DP+{PLANT}::9",
                "CUX+2:EUR:4", "PAT+1++5:3:D:30"]
        for k, (item, qty, price) in enumerate(lines):
            body += [f"LIN+{k + 1}++{item}:SRV", f"QTY+47:{qty}",
                     f"MOA+203:{qty * float(price):.2f}", f"PRI+AAA:{price}",
                     "TAX+7+VAT+++:::19+S"]
        body += ["UNS+S", f"CNT+2:{len(lines)}", f"MOA+77:{net + tax:.2f}", f"MOA+79:{net:.2f}",
                 f"MOA+125:{net:.2f}", f"MOA+176:{tax:.2f}", "TAX+7+VAT+++:::19+S",
                 f"MOA+150:{tax:.2f}"]
        msgs += unh_unt(f"{n + 1}", "INVOIC:D:96A:UN:EAN008", body)
    files["synthetic_invoic_d96a.edi"] = edi(
        [unb("UNOA:2", KESSLER, BUYER, "260312:1830", "KF0000044"), *msgs,
         "UNZ+2+KF0000044"], after="\r\n").encode("ascii")

    # DESADV D96A, four despatch advices in one interchange.
    msgs = []
    for n in range(4):
        body = [f"BGM+351+KF-DN-{88310 + n}+9", f"DTM+137:2026031{n}:102",
                f"DTM+11:2026031{n}:102", f"DTM+132:2026031{n + 1}:102",
                f"RFF+ON:NW450020{n % 2 + 1}", f"NAD+SU+{KESSLER}::9", f"NAD+BY+{BUYER}::9",
                f"NAD+DP+{PLANT}::9", "TDT+20++30+31", "CPS+1", "PAC+1++201::9"]
        body += ["PCI+33E", f"GIN+BJ+{sscc(4310 + n)}"]
        body += [f"LIN+1++{kessler_items[n]}:SRV", f"QTY+12:{600 * (n + 1)}"]
        body.append("CNT+2:1")
        msgs += unh_unt(f"{n + 1}", "DESADV:D:96A:UN:EAN005", body)
    files["synthetic_desadv_d96a_multi.edi"] = edi(
        [unb("UNOA:2", KESSLER, BUYER, "260313:0500", "KF0000045"), *msgs,
         "UNZ+4+KF0000045"], after="\r\n").encode("ascii")

    # APERAK: the buyer refuses a despatch advice that names an unknown order.
    body = ["BGM+305+NW-AP-26031301+27", "DTM+137:202603130612:203",
            "RFF+AAK:KF-DN-88312", "DTM+171:20260312:102", f"NAD+MS+{BUYER}::9",
            f"NAD+MR+{KESSLER}::9", "ERC+14", "FTX+AAO+++ORDER NW4500209 UNKNOWN"]
    files["synthetic_aperak_d96a.edi"] = edi(
        [unb("UNOA:2", BUYER, KESSLER, "260313:0612", "NW0000310"),
         *unh_unt("1", "APERAK:D:96A:UN:EAN002", body), "UNZ+1+NW0000310"],
        after="\r\n").encode("ascii")

    # DESADV whose UNH says version '0' instead of 'D' (a converter quirk seen in the wild),
    # no UNA, LF.
    body = ["BGM+351+LUS-0326-0077+9", "DTM+11:20260326:102", "RFF+ON:NW4500520",
            "RFF+ON:NW4500521", f"NAD+SU+{LUSITANA}::9", f"NAD+BY+{BUYER}::9", "CPS+1",
            f"LIN+1++{gtin('560123450201')}:SRV", "QTY+12:40", "RFF+ON:NW4500520",
            f"LIN+2++{gtin('560123450218')}:SRV", "QTY+12:25", "RFF+ON:NW4500521"]
    files["synthetic_desadv_version0.edi"] = edi(
        [unb("UNOA:2", LUSITANA, BUYER, "260326:1711", "LU000077"),
         *unh_unt("77", "DESADV:0:96A:UN", body), "UNZ+1+LU000077"], after="\n").encode("ascii")

    # UTF-8 national characters under UNOC (which declares Latin-1): a supplier's export tool.
    body = ["BGM+351+TO-DL-260327-3+9", "DTM+11:20260327:102", "RFF+ON:NW4500600",
            f"NAD+SU+{TATRA}::9++Tatra Odlitky s.r.o.+Průmyslová 1187+Kopřivnice++74221+CZ",
            f"NAD+DP+{PLANT}::9++Nordwerk Antriebe GmbH Werk 2+Königstraße 14+Gütersloh"
            "++33330+DE", "CPS+1", f"LIN+1++{gtin('859400122001')}:SRV",
            "IMD+F++:::Příruba odlitá ČSN 42 2416", "QTY+12:80"]
    files["synthetic_desadv_utf8_unoc.edi"] = edi(
        ["UNA:+.? ", unb("UNOC:3", TATRA, BUYER, "260327:0801", "TO0000093"),
         *unh_unt("1", "DESADV:D:96A:UN:EAN005", body), "UNZ+1+TO0000093"],
        after="\n").encode("utf-8")

    # ORDERS D01B in ISO-8859-1 (UNOC), with '?+' in a name and in an item description.
    body = ["BGM+220+NW4500700+9", "DTM+137:20260328:102", "DTM+2:20260409:102",
            "RFF+CT:RV-2025-044",
            f"NAD+BY+{BUYER}::9++Nordwerk Antriebe GmbH+Am Stadtholz 52+Bielefeld++33609+DE",
            "CTA+PD+:Jürgen Böhm", "COM+0521 9876-0:TE",
            f"NAD+SU+{KESSLER}::9++Kessler Federn GmbH?+Co. KG+Weißdornweg 3+Lüdenscheid"
            "++58511+DE",
            f"NAD+DP+{PLANT}::9++Werk 2 Tor 3+Königstraße 14+Gütersloh++33330+DE",
            "CUX+2:EUR:9",
            f"LIN+1++{kessler_items[0]}:SRV", "IMD+F++:::Druckfeder Ø 12 mm", "QTY+21:3000",
            f"LIN+2++{kessler_items[1]}:SRV", "IMD+F++:::Zugfeder ?+ Öse", "QTY+21:1200",
            "UNS+S", "CNT+2:2"]
    files["synthetic_orders_d01b_latin1.edi"] = edi(
        ["UNA:+.? ", unb("UNOC:3", BUYER, KESSLER, "260328:0930", "NW0000401"),
         *unh_unt("NW4500700", "ORDERS:D:01B:UN:EAN010", body), "UNZ+1+NW0000401"],
        after="\n").encode("latin-1")

    # Release-character edge cases in free text: '??', "?'", "???'", '?+' and '?:'.
    texts = ["FTX+AAI+++PALLET HEIGHT MAX 1200MM??",
             "FTX+AAI+++DO NOT STACK ?' FRAGILE",
             "FTX+AAI+++LABEL ?? BARCODE ON SHORT SIDE",
             "FTX+AAI+++CALL ???' BEFORE DELIVERY",
             "FTX+DEL+++GATE 3??+EN",
             "FTX+DEL+++GATE 3???+RAMP 7",
             "FTX+PUR+++DOCK A??:DOCK B"]
    body = orders_body("NW4500710", "20260329", BUYER, OOSTKAMP, PLANT,
                       [("1", gtin("541234561026"), 900)])
    body[2:2] = texts
    files["synthetic_release_characters.edi"] = edi(
        ["UNA:+.? ", unb("UNOA:2", BUYER, OOSTKAMP, "260329:1105", "NW0000402"),
         *unh_unt("1", "ORDERS:D:96A:UN:EAN008", body), "UNZ+1+NW0000402"],
        after="\n").encode("ascii")

    # A line break inside a segment: the supplier's system wraps long free texts.
    body = orders_body("NW4500720", "20260330", BUYER, OOSTKAMP, PLANT,
                       [("1", gtin("541234561002"), 320), ("2", gtin("541234561019"), 80)])
    body[2:2] = ["FTX+DEL+++DELIVER ONLY MON-THU 06.00-14.00, RAMP 7, CALL THE GATEHOUSE\n"
                 ":30 MINUTES AHEAD ON ?+49 5241 77310"]
    files["synthetic_multiline.edi"] = edi(
        [unb("UNOA:2", BUYER, OOSTKAMP, "260330:0615", "NW0000403"),
         *unh_unt("1", "ORDERS:D:96A:UN:EAN008", body), "UNZ+1+NW0000403"],
        after="\n").encode("ascii")

    # ORDRSP D96A with a BOM: accepted, changed and rejected lines.
    body = ["BGM+231+LUS-OR-26-0412+4", "DTM+137:20260331:102", "RFF+ON:NW4500520",
            "DTM+171:20260326:102", f"NAD+BY+{BUYER}::9", f"NAD+SU+{LUSITANA}::9",
            f"LIN+1+5+{gtin('560123450201')}:SRV", "QTY+21:40",
            f"LIN+2+3+{gtin('560123450218')}:SRV", "PIA+1+FL-CB-2218:SA", "QTY+21:25",
            "DTM+2:20260415:102", "PRI+AAA:12.80", f"LIN+3+7+{gtin('560123450225')}:SRV",
            "UNS+S", "CNT+2:3"]
    files["synthetic_ordrsp_d96a_bom.txt"] = (BOM + edi(
        [unb("UNOA:2", LUSITANA, BUYER, "260331:1512", "LU000081"),
         *unh_unt("LU0412", "ORDRSP:D:96A:UN:EAN009", body), "UNZ+1+LU000081"],
        after="\r\n")).encode("utf-8")

    # DESADV D96A EAN007 with a BOM: a pallet of two boxes, SSCCs, CPS hierarchy.
    ssccs = [sscc(4400 + n) for n in range(3)]
    body = ["BGM+351+KF-DN-88400+9", "DTM+137:20260401:102", "DTM+11:20260402:102",
            "DTM+132:20260403:102", "RFF+ON:NW4500800", f"NAD+SU+{KESSLER}::9",
            f"NAD+BY+{BUYER}::9", f"NAD+DP+{PLANT}::9", f"NAD+SH+{KESSLER}::9",
            "CPS+1", "PAC+1++201::9", "MEA+PD+AAB+KGM:412.5", "PCI+33E",
            f"GIN+BJ+{ssccs[0]}",
            "CPS+2+1", "PAC+1++CT", "PCI+33E", f"GIN+BJ+{ssccs[1]}",
            f"LIN+1++{kessler_items[0]}:SRV", "QTY+12:1200",
            "CPS+3+1", "PAC+1++CT", "PCI+33E", f"GIN+BJ+{ssccs[2]}",
            f"LIN+2++{kessler_items[1]}:SRV", "QTY+12:300",
            f"LIN+3++{kessler_items[2]}:SRV", "QTY+12:60",
            "CNT+2:3"]
    files["synthetic_desadv_ean007_bom.txt"] = (BOM + edi(
        [unb("UNOA:2", KESSLER, BUYER, "260402:0545", "KF0000052"),
         *unh_unt("KF88400", "DESADV:D:96A:UN:EAN007", body), "UNZ+1+KF0000052"],
        after="\r\n")).encode("utf-8")

    # CONTRL (syntax 4) with a BOM: two acknowledgments of interchanges received.
    msgs = []
    for n, ref in enumerate(["NW0000301", "NW0000302"]):
        msgs += unh_unt(f"C{n + 1}", "CONTRL:4:1:UN",
                        [f"UCI+{ref}+{BUYER}:14+{KESSLER}:14+7"])
    files["synthetic_contrl_v4_bom.txt"] = (BOM + edi(
        [unb("UNOB:4", KESSLER, BUYER, "20260303:0702", "KF0000046"), *msgs,
         "UNZ+2+KF0000046"], after="\r\n")).encode("utf-8")

    # INVOIC inside a UNG/UNE group, with a BOM.
    body = ["BGM+380+LUS-FT-2026-0188+9", "DTM+137:20260404:102", "RFF+ON:NW4500520",
            f"NAD+SU+{LUSITANA}::9", "RFF+VA:PT501234567", f"NAD+BY+{BUYER}::9",
            "CUX+2:EUR:4", f"LIN+1++{gtin('560123450201')}:SRV", "QTY+47:40",
            "MOA+203:512.00", "PRI+AAA:12.80", "UNS+S", "MOA+77:629.76", "MOA+125:512.00",
            "MOA+176:117.76", "TAX+7+VAT+++:::23+S"]
    files["synthetic_invoic_ung_bom.txt"] = (BOM + edi(
        [unb("UNOA:2", LUSITANA, BUYER, "260404:1200", "LU000090"),
         f"UNG+INVOIC+{LUSITANA}:14+{BUYER}:14+260404:1200+90+UN+D:96A",
         *unh_unt("1", "INVOIC:D:96A:UN:EAN008", body), "UNE+1+90", "UNZ+1+LU000090"],
        after="\r\n")).encode("utf-8")

    # ORDERS and INVOIC in one interchange, each in its own UNG group (a service provider
    # forwarding a buyer's order together with an invoice for an earlier one).
    order = orders_body("NW4500900", "20260405", BUYER, LUSITANA, PLANT,
                        [("1", gtin("560123450201"), 60)])
    invoice = ["BGM+380+LUS-FT-2026-0191+9", "DTM+137:20260405:102", "RFF+ON:NW4500521",
               f"NAD+SU+{LUSITANA}::9", f"NAD+BY+{BUYER}::9", "CUX+2:EUR:4",
               f"LIN+1++{gtin('560123450218')}:SRV", "QTY+47:25", "MOA+203:320.00",
               "PRI+AAA:12.80", "UNS+S", "MOA+77:393.60", "MOA+125:320.00", "MOA+176:73.60"]
    files["synthetic_orders_invoic_two_groups.edi"] = edi(
        [unb("UNOA:2", BUYER, LUSITANA, "260405:0800", "VAN0000091"),
         f"UNG+ORDERS+{BUYER}:14+{LUSITANA}:14+260405:0800+91+UN+D:96A",
         *unh_unt("O1", "ORDERS:D:96A:UN:EAN008", order), "UNE+1+91",
         f"UNG+INVOIC+{LUSITANA}:14+{BUYER}:14+260405:0800+92+UN+D:96A",
         *unh_unt("I1", "INVOIC:D:96A:UN:EAN008", invoice), "UNE+1+92",
         "UNZ+2+VAN0000091"], after="\r\n").encode("ascii")

    # ORDERS D03B, syntax 4 (UNOA:4, 8-digit date), no UNA, one line.
    body = orders_body("NW4501000", "20260406", BUYER, TATRA, PLANT,
                       [("1", gtin("859400122018"), 120), ("2", gtin("859400122025"), 60)],
                       delivery_date="20260427")
    files["synthetic_orders_d03b_unoa4.edi"] = edi(
        [unb("UNOA:4", BUYER, TATRA, "20260406:0700", "NW0000501"),
         *unh_unt("NW4501000", "ORDERS:D:03B:UN:EAN010", body), "UNZ+1+NW0000501"],
        after="\n").encode("ascii")

    # INVOIC D03B, UNOC:4, UNA declaring '*' as the repetition separator.
    body = ["BGM+380+TO-FA-26-1102+9", "DTM+137:20260410:102", "RFF+ON:NW4501000",
            f"NAD+SU+{TATRA}::9", "RFF+VA:CZ25123456", f"NAD+BY+{BUYER}::9",
            "RFF+VA:DE129876543", "CUX+2:EUR:4",
            f"LIN+1++{gtin('859400122018')}:SRV", "QTY+47:120", "MOA+203:1482.00",
            "PRI+AAA:12.35", f"LIN+2++{gtin('859400122025')}:SRV", "QTY+47:60",
            "MOA+203:597.00", "PRI+AAA:9.95", "UNS+S", "MOA+77:2079.00", "MOA+125:2079.00",
            "MOA+176:0.00", "TAX+7+VAT+++:::0+E"]
    files["synthetic_invoic_d03b_una_repetition.edi"] = edi(
        ["UNA:+.?*", unb("UNOC:4", TATRA, BUYER, "20260410:1300", "TO0000110"),
         *unh_unt("1", "INVOIC:D:03B:UN:EAN011", body), "UNZ+1+TO0000110"],
        after="\n").encode("latin-1")

    # The same interchange twice in one file (a resend appended by a VAN mailbox).
    once = edi([unb("UNOA:2", OOSTKAMP, BUYER, "260406:1530", "OK0000520"),
                *unh_unt("1", "DESADV:D:96A:UN:EAN005", [
                    "BGM+351+OK-ASN-55110+9", "DTM+11:20260406:102", "RFF+ON:NW4500310",
                    f"NAD+SU+{OOSTKAMP}::9", f"NAD+DP+{PLANT}::9", "CPS+1",
                    f"LIN+1++{gtin('541234561002')}:SRV", "QTY+12:500"]),
                "UNZ+1+OK0000520"], after="\r\n")
    files["synthetic_duplicate_interchange.edi"] = (once + once).encode("ascii")
    return files


# ------------------------------------------------------ wider set (message types, directories)
# Types and directories the copied samples lack, written as automotive and retail partners
# write them (several identifiers per line, standard side segments, later directories).


def synthetic_wider() -> dict[str, dict[str, bytes]]:
    edifact_files: dict[str, bytes] = {}
    x12_files: dict[str, bytes] = {}
    una = "UNA:+.? "  # edi() adds the terminator
    spring, washer = gtin("401987600104"), gtin("401987600111")

    # ORDRSP D10A (plain UN, no association code): two lines accepted, one changed with a new
    # date, one rejected; DTM 203 and 102; PIA with supplier and buyer numbers.
    body = ["BGM+231+KF-OR-26-0311+4", "DTM+137:202604071015:203", "RFF+ON:NW4500711",
            "DTM+171:20260406:102", f"NAD+BY+{BUYER}::9", f"NAD+SU+{KESSLER}::9",
            f"LIN+1+5+{spring}:SRV", "PIA+1+KF-4411:SA+NW-88213:BP", "QTY+21:500:PCE",
            "DTM+2:20260420:102",
            f"LIN+2+3+{washer}:SRV", "PIA+1+KF-4420:SA+NW-88220:BP", "QTY+21:1000:PCE",
            "DTM+2:20260427:102", "FTX+AAI+++Neuer Liefertermin wegen Werkzeugwechsel",
            "LIN+3+7", "PIA+5+KF-9001:SA+NW-99001:BP", "QTY+21:0:PCE",
            "UNS+S", "CNT+2:3"]
    edifact_files["synthetic_ordrsp_d10a.edi"] = edi(
        [una, unb("UNOC:3", KESSLER, BUYER, "260407:1016", "KF0000311"),
         *unh_unt("1", "ORDRSP:D:10A:UN", body), "UNZ+1+KF0000311"], after="\r\n"
    ).encode("latin-1")

    # INVOIC D01B EAN011: LIN with a GTIN, PIA with three composites (supplier, buyer, batch),
    # IMD, invoiced and delivered quantities, tax per line, totals.
    body = ["BGM+380+OK-F-26-04410+9", "DTM+137:20260412:102", "DTM+35:20260410:102",
            "RFF+ON:NW4500310", "RFF+DQ:OK-ASN-55110", f"NAD+SU+{OOSTKAMP}::9",
            "RFF+VA:BE0456789123", f"NAD+BY+{BUYER}::9", "RFF+VA:DE129876543",
            f"NAD+DP+{PLANT}::9", "CUX+2:EUR:4", "PAT+1++5:3:D:30",
            f"LIN+1++{gtin('541234561002')}:SRV", "PIA+1+OK-CLIP-22:SA+NW-71001:BP+L26-0401:NB",
            "IMD+F++:::Kabelclip 22 mm PA66", "QTY+47:500:PCE", "QTY+46:500:PCE",
            "MOA+203:155.00", "PRI+AAA:0.31", "TAX+7+VAT+++:::21+S",
            f"LIN+2++{gtin('541234561019')}:SRV", "PIA+1+OK-GROM-30:SA+NW-71020:BP",
            "QTY+47:200:PCE", "MOA+203:104.00", "PRI+AAA:0.52", "TAX+7+VAT+++:::21+S",
            "UNS+S", "CNT+2:2", "MOA+77:313.39", "MOA+79:259.00", "MOA+124:54.39",
            "TAX+7+VAT+++:::21+S", "MOA+124:54.39"]
    edifact_files["synthetic_invoic_d01b_ean011.edi"] = edi(
        [una, unb("UNOC:3", OOSTKAMP, BUYER, "260412:1400", "OK0000612"),
         *unh_unt("OK4410", "INVOIC:D:01B:UN:EAN011", body), "UNZ+1+OK0000612"], after="\n"
    ).encode("latin-1")

    # DELJIT D04A: a JIT call in two sequences, call-off times with 203, LIN with the buyer's
    # item (IN) and a PIA, dock reference.
    body = ["BGM+242+NW-JIT-260408-01+9", "DTM+137:202604080545:203", "RFF+AAN:LAB-7",
            f"NAD+MI+{BUYER}::9", f"NAD+SU+{KESSLER}::9", f"NAD+ST+{PLANT}::9",
            "SEQ++1", "DTM+2:202604081400:203",
            "LIN+1++NW-88213:IN", "PIA+1+KF-4411:SA+C:EC", "RFF+ON:NW4500711",
            "LOC+11+TOR 3", "QTY+1:120:PCE", "SCC+1", "DTM+2:202604081400:203",
            "SEQ++2", "DTM+2:202604082200:203",
            "LIN+2++NW-88220:IN", "PIA+1+KF-4420:SA", "QTY+1:400:PCE", "SCC+1",
            "DTM+2:202604082200:203"]
    edifact_files["synthetic_deljit_d04a.edi"] = edi(
        [una, unb("UNOC:3", BUYER, KESSLER, "260408:0545", "NWJ000408"),
         *unh_unt("J1", "DELJIT:D:04A:UN", body), "UNZ+1+NWJ000408"], after="\n"
    ).encode("latin-1")

    # DELFOR D97A (GIS groups, SCC before its QTY/DTM): cumulative received, a firm week and
    # a forecast month per line, the ship-to inside the group.
    body = ["BGM+241+NW-LAB-2614+5", "DTM+137:20260406:102", "DTM+158:20260406:102",
            "DTM+159:20260630:102", f"NAD+MI+{BUYER}::9", f"NAD+SU+{TATRA}::9", "GIS+37",
            f"NAD+ST+{PLANT}::9", "LIN+1++NW-30120:IN", "PIA+1+TO-ODL-120:SA",
            "RFF+ON:NW4501000", "QTY+70:4200:PCE", "DTM+51:20260101:102",
            "SCC+1", "QTY+1:120:PCE", "DTM+2:20260413:102", "QTY+1:140:PCE",
            "DTM+2:20260420:102", "SCC+4", "QTY+1:600:PCE", "DTM+2:202605:610",
            "LIN+2++NW-30121:IN", "PIA+1+TO-ODL-121:SA", "SCC+4", "QTY+1:60:PCE",
            "DTM+2:202616:616"]
    edifact_files["synthetic_delfor_d97a.edi"] = edi(
        [una, unb("UNOC:3", BUYER, TATRA, "260406:0600", "NWF002614"),
         *unh_unt("F2614", "DELFOR:D:97A:UN", body), "UNZ+1+NWF002614"], after="\r\n"
    ).encode("latin-1")

    # DESADV D07A: a pallet with SSCC holding one line, PIA with a batch, transport details.
    body = ["BGM+351+LU-GR-26-0907+9", "DTM+137:20260409:102", "DTM+11:202604091130:203",
            "RFF+ON:NW4500420", f"NAD+SU+{LUSITANA}::9", f"NAD+DP+{PLANT}::9",
            "TDT+20++30++LUSOTRANS:172:ZZZ", "CPS+1", "PAC+1++PX", "PCI+33E",
            f"GIN+BJ+{sscc(4711)}", f"LIN+1++{gtin('560123450102')}:SRV",
            "PIA+1+FL-CAB-16:SA+NW-66016:BP+B2604-17:NB", "QTY+12:250:MTR",
            "RFF+ON:NW4500420", "CNT+2:1"]
    edifact_files["synthetic_desadv_d07a.edi"] = edi(
        [una, unb("UNOC:3", LUSITANA, BUYER, "260409:1131", "LU0000907"),
         *unh_unt("D907", "DESADV:D:07A:UN", body), "UNZ+1+LU0000907"], after="\n"
    ).encode("latin-1")

    # INVRPT D01B: stock per line and location (INV + QTY), one GTIN, one buyer number.
    body = ["BGM+35+KF-LB-2615+9", "DTM+137:20260410:102", "DTM+366:20260409:102",
            f"NAD+SU+{KESSLER}::9", f"NAD+BY+{BUYER}::9",
            f"LIN+1++{spring}:SRV", "PIA+1+KF-4411:SA+NW-88213:BP",
            "INV+1++11", "QTY+145:12000:PCE", "LOC+18+KONSI-GUETERSLOH",
            "INV+2++11", "QTY+1:500:PCE", "LOC+18+KONSI-GUETERSLOH",
            "LIN+2", "PIA+5+NW-88220:BP+KF-4420:SA", "INV+1++11", "QTY+145:30000:PCE"]
    edifact_files["synthetic_invrpt_d01b.edi"] = edi(
        [una, unb("UNOC:3", KESSLER, BUYER, "260410:0800", "KF0000415"),
         *unh_unt("IR15", "INVRPT:D:01B:UN:EAN008", body), "UNZ+1+KF0000415"], after="\n"
    ).encode("latin-1")

    # ORDCHG D01B: a quantity change and a cancelled line, LIN action codes 3 and 2.
    body = ["BGM+230+NW4500711-2+5", "DTM+137:20260409:102", "RFF+ON:NW4500711",
            f"NAD+BY+{BUYER}::9", f"NAD+SU+{KESSLER}::9",
            f"LIN+1+3+{spring}:SRV", "PIA+1+KF-4411:SA+NW-88213:BP", "QTY+21:650:PCE",
            "DTM+2:20260420:102", f"LIN+2+2+{washer}:SRV", "PIA+1+KF-4420:SA+NW-88220:BP",
            "QTY+21:0:PCE", "UNS+S"]
    edifact_files["synthetic_ordchg_d01b.edi"] = edi(
        [una, unb("UNOC:3", BUYER, KESSLER, "260409:1200", "NWC000711"),
         *unh_unt("C711", "ORDCHG:D:01B:UN:EAN008", body), "UNZ+1+NWC000711"], after="\n"
    ).encode("latin-1")

    # 830 005010 (ISA 00501, repetition '^'): heading XPO, a line with BP/VP/PO/EC, PRS, two
    # ATH, the FST loop and an SDP loop, SHP with the cumulative.
    body = ["BFR*05*GL-REL-2615*GL-BPO-77*DL*A*20260413*20260712*20260410",
            "XPO*4500123456", "REF*IA*" + CASCADE, "DTM*097*20260410",
            f"N1*ST*GREAT LAKES DRIVETRAIN PLANT 2*1*{GREAT_LAKES}",
            f"N1*SU*CASCADE STAMPING CO*1*{CASCADE}",
            "LIN**BP*GL-22014*VP*CS-BRK-14*PO*4500123456*EC*C", "UIT*EA",
            "PID*F****MOTOR BRACKET 14GA STAMPED", "PRS*2", "REF*DK*DOCK 4",
            "PER*EX*DANA OKAFOR*TE*4195550142", "ATH*FI**1600**20260413",
            "ATH*MT**3200**20260413", "FST*400*C*W*20260413", "FST*400*C*W*20260420",
            "FST*450*D*W*20260427", "SDP*Y*F", "FST*1800*D*M*20260501*20260531",
            "SHP*01*380*050*20260408", "REF*SI*CS-SH-0408",
            "SHP*02*15380*051*20260101**20260408", "CTT*1*3050"]
    ic = interchange(isa(GREAT_LAKES, CASCADE, "260410", "0615", "000006152",
                         version="00501", repetition="^"), [
        gs("PS", GREAT_LAKES, CASCADE, "20260410", "0615", "6152", "005010",
           [st_se("830", "0001", body)])], "000006152")
    x12_files["synthetic_830_005010_repetition.x12"] = x12(ic, after="\n").encode("ascii")

    # 862 004010: JIT shipping schedule, two lines, FST with JIT times and a REF.
    body = ["BSS*05*GL-SS-260414*20260414*DL*20260415*20260417*GL-REL-2615",
            "DTM*002*20260415", f"N1*ST*GREAT LAKES DRIVETRAIN PLANT 2*1*{GREAT_LAKES}",
            f"N1*SU*PIEDMONT FASTENER CORP*1*{PIEDMONT}",
            "LIN**BP*GL-30008*VP*PF-NUT-M8*PO*4500123500", "UIT*EA", "REF*DK*DOCK 2",
            "FST*6000*C*D*20260415**002*0600", "JIT*3000*0600", "JIT*3000*1400*LINE 2",
            "FST*6000*C*D*20260416", "SHP*01*6000*050*20260413",
            "LIN**BP*GL-30009*VP*PF-WSH-M8", "UIT*EA", "FST*6000*C*D*20260416",
            "CTT*2*18000"]
    ic = interchange(isa(GREAT_LAKES, PIEDMONT, "260414", "0500", "000000862"), [
        gs("SS", GREAT_LAKES, PIEDMONT, "20260414", "0500", "862", "004010",
           [st_se("862", "0001", body)])], "000000862")
    x12_files["synthetic_862_004010_jit.x12"] = x12(ic, after="\r\n").encode("ascii")

    # 846 004010: vendor inventory with UIT in the QTY loop and a case GTIN-14.
    body = ["BIA*00*DD*OP-INV-2615*20260410", f"N1*SU*ORTEGA PLASTICOS SA DE CV*1*{ORTEGA}",
            "LIN**BP*GL-71001*VP*OP-CLIP-22*UP*" + gtin("07123456100")[:12],
            "PID*F****HARNESS CLIP 22MM PA66", "DTM*179*20260409", "QTY*33*25000*EA",
            "UIT*EA*0.31", "QTY*17*5000*EA",
            "LIN**VP*OP-GROM-30*UK*" + gtin("1071234561002"), "QTY*33*8000*EA", "CTT*2"]
    ic = interchange(isa(ORTEGA, GREAT_LAKES, "260410", "2300", "000000846"), [
        gs("IB", ORTEGA, GREAT_LAKES, "20260410", "2300", "846", "004010",
           [st_se("846", "8460", body)])], "000000846")
    x12_files["synthetic_846_004010.x12"] = x12(ic, after="\n").encode("ascii")

    # 855 005010: acknowledgment with changed date and a backorder, ISA11 '^'.
    body = ["BAK*00*AC*4500124001*20260322****OP-SO-4001*20260323",
            f"N1*SE*ORTEGA PLASTICOS*1*{ORTEGA}",
            "PO1*1*5000*EA*0.31**BP*GL-71001*VP*OP-CLIP-22",
            "ACK*IA*5000*EA*068*20260405**BP*GL-71001*VP*OP-CLIP-22",
            "PO1*2*1800*EA*0.52**BP*GL-71020*VP*OP-GROM-30",
            "ACK*IB*1000*EA*068*20260410", "ACK*IA*800*EA*068*20260405", "CTT*2"]
    ic = interchange(isa(ORTEGA, GREAT_LAKES, "260323", "1000", "000000855", version="00501",
                         repetition="^"), [
        gs("PR", ORTEGA, GREAT_LAKES, "20260323", "1000", "855", "005010",
           [st_se("855", "8550", body)])], "000000855")
    x12_files["synthetic_855_005010.x12"] = x12(ic, after="\n").encode("ascii")

    # 860 004010: quantity change and a deleted line (POC with BP/VP/MG).
    body = ["BCH*04*SA*4500123456**2*20260409",
            f"N1*BY*GREAT LAKES DRIVETRAIN INC*1*{GREAT_LAKES}",
            "POC*1*QI*1500*300*EA*0.184**BP*GL-10035*VP*CS-M10-35*MG*M10X35-8.8",
            "DTM*002*20260420", "POC*2*DI*0*2500*EA*0.021**BP*GL-10010*VP*CS-W10", "CTT*2"]
    ic = interchange(isa(GREAT_LAKES, CASCADE, "260409", "1300", "000004713"), [
        gs("PC", GREAT_LAKES, CASCADE, "20260409", "1300", "4713", "004010",
           [st_se("860", "0001", body)])], "000004713")
    x12_files["synthetic_860_004010.x12"] = x12(ic, after="\n").encode("ascii")

    # 810 005010: invoice lines with SAC/TXI, an N9/MSG/MTX note and FA1/FA2 accounting.
    body = ["BIG*20260415*CS-INV-7781**4500123456", "CUR*SE*USD",
            f"N1*RE*CASCADE STAMPING CO*1*{CASCADE}",
            f"N1*BT*GREAT LAKES DRIVETRAIN INC*1*{GREAT_LAKES}", "ITD*01*3*2**10**30",
            "IT1*1*1200*EA*0.184**BP*GL-10035*VP*CS-M10-35", "PID*F****HEX FLANGE BOLT M10X35",
            "SAC*C*D240***1500", "TXI*ST*13.44*6", "N9*L1*LINE NOTE", "MSG*PARTIAL SHIPMENT",
            "MTX*GEN*REMAINDER SHIPS 20260422", "FA1*DZ", "FA2*18*GL-4400-220",
            "IT1*2*400*EA*1.37**BP*GL-22014*VP*CS-BRK-14", "TDS*80208", "CTT*2"]
    ic = interchange(isa(CASCADE, GREAT_LAKES, "260415", "1500", "000007781", version="00501",
                         repetition="^"), [
        gs("IN", CASCADE, GREAT_LAKES, "20260415", "1500", "7781", "005010",
           [st_se("810", "0001", body)])], "000007781")
    x12_files["synthetic_810_005010_side_loops.x12"] = x12(ic, after="\n").encode("ascii")

    # 856 005010: shipment with two TD1, PAL and YNQ at shipment level, pallet HL with its SSCC
    # (MAN GM), item with SLN.
    body = ["BSN*00*CS-ASN-0412*20260412*1615*0001", "HL*1**S", "TD1*PLT90*1****G*920*LB",
            "TD1*CTN25*40", "TD5*B*2*UPSN*M*UPS FREIGHT", "REF*BM*CS-BOL-0412",
            "DTM*011*20260412", "PAL*4*5*8*40",
            f"N1*ST*GREAT LAKES DRIVETRAIN PLANT 2*1*{GREAT_LAKES}",
            f"N1*SF*CASCADE STAMPING CO*1*{CASCADE}", "YNQ**Y", "HL*2*1*O", "PRF*4500123456",
            "HL*3*2*T", f"MAN*GM*{sscc(9101)}", "HL*4*3*I",
            "LIN**BP*GL-10035*VP*CS-M10-35", "SN1**1200*EA", "SLN*1**I*600*EA",
            "SLN*2**I*600*EA", "CTT*4"]
    ic = interchange(isa(CASCADE, GREAT_LAKES, "260412", "1616", "000004120", version="00501",
                         repetition="^"), [
        gs("SH", CASCADE, GREAT_LAKES, "20260412", "1616", "4120", "005010",
           [st_se("856", "0001", body)])], "000004120")
    x12_files["synthetic_856_005010_pallets.x12"] = x12(ic, after="\n").encode("ascii")
    return {"edifact": edifact_files, "x12": x12_files}


def main() -> None:
    wider = synthetic_wider()
    for folder, files in (("x12", synthetic_x12()), ("edifact", synthetic_edifact()),
                          ("x12", wider["x12"]), ("edifact", wider["edifact"])):
        for name, data in files.items():
            (HERE / folder / name).write_bytes(data)


if __name__ == "__main__":
    main()
