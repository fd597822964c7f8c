"""Small hand-checkable instances for the optimizer tests."""

from __future__ import annotations

from optimizer import Offer, Part, Receipt, Supplier, SupplyState

METHODS = [("milp", "highs"), ("milp", "cbc"), ("decompose", "highs")]


def one_part(
    demand: tuple[int, ...], *, price: float = 1.0, moq: int = 0, multiple: int = 1,
    lead: int = 0, fixed: float = 0.0, on_hand: int = 0, capacity: tuple[float, ...] | None = None,
    holding: float = 0.1, backlog: float = 100.0, safety: int = 0, shortfall: float | None = None,
    receipts: tuple[Receipt, ...] = (), budget: tuple[float, ...] | None = None,
) -> SupplyState:
    return SupplyState(
        periods=len(demand),
        parts=(Part("P", demand, on_hand=on_hand, holding_cost=holding, backlog_penalty=backlog,
                    safety_stock=safety, shortfall_penalty=shortfall),),
        suppliers=(Supplier("A", capacity),),
        offers=(Offer("P", "A", price, moq, multiple, lead, fixed),),
        receipts=receipts, budget=budget,
    )
