"""Coverage-guided fuzzing of rendering: payloads built from the fuzzer's bytes are refused
with a one-line RenderError or written as documents our parser reads back.

    python fuzz/fuzz_render.py [libFuzzer options] CORPUS_DIR
"""

from __future__ import annotations

import json
import sys
from typing import Any

import atheris

with atheris.instrument_imports(include=["translators"]):
    import translators.render  # noqa: F401

from common import harness, run_one

EVENTS = ("purchase_order", "order_change", "delivery_schedule")


def _value(fdp: atheris.FuzzedDataProvider) -> Any:
    kind = fdp.ConsumeIntInRange(0, 6)
    if kind == 0:
        return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 40))
    if kind == 1:
        return fdp.ConsumeInt(4)
    if kind == 2:
        return fdp.ConsumeRegularFloat()
    if kind == 3:
        return None
    if kind == 4:
        day = fdp.ConsumeIntInRange(0, 40_000)
        return f"{2000 + day // 400:04d}-{1 + day % 13:02d}-{1 + day % 31:02d}"
    if kind == 5:
        return fdp.ConsumeIntInRange(0, 10**6)
    return fdp.ConsumeUnicodeNoSurrogates(6).upper() or "X"


def _payload(fdp: atheris.FuzzedDataProvider) -> dict[str, Any]:
    line_keys = ("line_number", "quantity", "buyer_part", "supplier_part", "unit",
                 "unit_price", "requested_delivery_date", "description", "gtin", "change")
    lines = [{key: _value(fdp) for key in line_keys if fdp.ConsumeBool()}
             for _ in range(fdp.ConsumeIntInRange(0, 3))]
    periods = [{key: _value(fdp) for key in ("start", "end", "quantity", "commitment")
                if fdp.ConsumeBool()} for _ in range(fdp.ConsumeIntInRange(0, 3))]
    items = [{"buyer_part": _value(fdp), "unit": _value(fdp), "periods": periods}
             for _ in range(fdp.ConsumeIntInRange(0, 2))]
    top = ("order_number", "order_date", "purpose", "currency", "change_number",
           "schedule_number", "issue_date", "horizon_start", "horizon_end")
    payload: dict[str, Any] = {key: _value(fdp) for key in top if fdp.ConsumeBool()}
    payload["schedule_type"] = "firm" if fdp.ConsumeBool() else "forecast"
    payload["lines"] = lines
    payload["items"] = items
    return payload


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    event_type = EVENTS[fdp.ConsumeIntInRange(0, 2)]
    standard, version = harness.RENDER_PROFILES[fdp.ConsumeIntInRange(0, 3)]
    payload = _payload(fdp)

    def saved() -> bytes:
        return json.dumps({"event_type": event_type, "standard": standard, "version": version,
                           "payload": payload}).encode()

    run_one("render", data,
            lambda: harness.check_render(event_type, payload, standard, version), saved)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
