"""Released or approved plan actions -> outbox rows, through the outbound module's enqueue.

``enqueue_document`` renders the document once (EDI with control numbers, or the webhook body)
and routes it by the supplier's strangler stage; it is idempotent on (partner, document type,
business id), and our business ids are stable per action, so a retry adds nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.outbound.enqueue import OurIdentity, enqueue_document
from gateway.storage.models import Partner
from gateway.storage.models_planning import FAILED, PlanAction

log = logging.getLogger("edigate.planning")
Enqueue = Callable[[Session, PlanAction, datetime], list[str]]


def enqueuer(ours: OurIdentity) -> Enqueue:
    def enqueue(session: Session, action: PlanAction, now: datetime) -> list[str]:
        partner = session.get(Partner, action.supplier_id)
        if partner is None:
            action.status, action.decision_reason = FAILED, "supplier is no longer a partner"
            return []
        try:
            with session.begin_nested():
                rows = enqueue_document(
                    session, partner, action.document_type, action.business_id, action.data,
                    now=now, ours=ours, cause_type="plan_action", cause_id=action.id)
                session.flush()
        except Exception as exc:
            # Whatever stops one document (a profile without a channel, a render error) must
            # not undo the plan run: the action says why and can be approved again after a fix.
            log.warning("plan action %s could not be queued: %s", action.id, exc)
            action.status = FAILED
            action.decision_reason = f"could not be queued: {exc}"
            return []
        action.outbox_ids = [row.id for row in rows]
        return action.outbox_ids

    return enqueue


def settings_enqueuer(settings: Settings) -> Enqueue:
    return enqueuer(OurIdentity.from_settings(settings))
