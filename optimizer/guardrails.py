"""Which planned changes may go out at once and which wait for a human's approval.

An item needs approval when its value (quantity x price) is above ``value_threshold``, or when
it changes a firm commitment (an order or schedule line arriving inside the firm horizon) by
more than ``firm_change_share`` of its previous quantity (a cancellation is a 100% change).
Pure decision; the gateway keeps the queue and the approvals.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.diff import OrderChange, PlanDiff, ScheduleLine


@dataclass(frozen=True)
class GuardrailPolicy:
    value_threshold: float | None = 50_000.0
    firm_change_share: float | None = 0.2

    def __post_init__(self) -> None:
        if self.value_threshold is not None and self.value_threshold < 0:
            raise ValueError("value_threshold must not be negative")
        if self.firm_change_share is not None and self.firm_change_share < 0:
            raise ValueError("firm_change_share must not be negative")


@dataclass(frozen=True)
class Decision:
    item: OrderChange | ScheduleLine
    reasons: tuple[str, ...]

    @property
    def needs_approval(self) -> bool:
        return bool(self.reasons)


@dataclass(frozen=True)
class Review:
    held: tuple[Decision, ...]
    released: tuple[OrderChange | ScheduleLine, ...]


def _reasons(
    policy: GuardrailPolicy, value: float, quantity: int, previous: int, firm: bool
) -> tuple[str, ...]:
    reasons = []
    if policy.value_threshold is not None and value > policy.value_threshold:
        reasons.append(f"value {value:,.2f} above {policy.value_threshold:,.2f}")
    if firm and previous > 0 and policy.firm_change_share is not None:
        share = abs(quantity - previous) / previous
        if share > policy.firm_change_share:
            reasons.append(
                f"firm quantity {previous} -> {quantity} ({share:.0%} change, limit "
                f"{policy.firm_change_share:.0%})"
            )
    return tuple(reasons)


def review(diff: PlanDiff, policy: GuardrailPolicy) -> Review:
    """Split the diff into what is held for approval (with reasons) and what may be sent."""
    held: list[Decision] = []
    released: list[OrderChange | ScheduleLine] = []
    for change in diff.orders:
        reasons = _reasons(policy, change.value, change.quantity, change.previous_quantity,
                           change.firm)
        if reasons:
            held.append(Decision(change, reasons))
        else:
            released.append(change)
    for line in diff.schedules:
        if not line.changed:
            released.append(line)
            continue
        reasons = _reasons(policy, line.value, line.quantity, line.previous_quantity,
                           line.kind == "firm")
        if reasons:
            held.append(Decision(line, reasons))
        else:
            released.append(line)
    return Review(tuple(held), tuple(released))
