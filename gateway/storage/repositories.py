"""Queries and writes the rest of the gateway uses; every function takes an open Session.

Transactions belong to the caller (a request handler, a job, a CLI command), so one decision and
everything it causes — an event, an outbox row, an audit entry — commit together.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gateway.domain.states import Stage
from gateway.partners.profile import PartnerProfile, hash_token, token_prefix
from gateway.storage.models import (
    AuditEntry,
    ControlNumberSequence,
    Credential,
    Partner,
    PartnerIdentity,
    PartnerStage,
)


def upsert_partner(session: Session, profile: PartnerProfile, *, now: datetime,
                   actor: str) -> tuple[Partner, bool]:
    """Create or update a partner from its profile; returns (partner, created).

    Stages already in the database are kept: a re-import of the fixtures must not undo a
    promotion an operator made and audited. New document types get the profile's stage.
    """
    partner = session.get(Partner, profile.id)
    created = partner is None
    if partner is None:
        partner = Partner(id=profile.id, created_at=now)
        session.add(partner)
    partner.name = profile.name
    partner.standard = profile.standard
    partner.version = profile.version
    partner.profile = profile.settings()
    partner.updated_at = now
    partner.active = True

    wanted = {(i.standard, i.qualifier, i.identifier) for i in profile.identities}
    partner.identities[:] = [i for i in partner.identities
                             if (i.standard, i.qualifier, i.identifier) in wanted]
    have = {(i.standard, i.qualifier, i.identifier) for i in partner.identities}
    for std, qual, ident in sorted(wanted - have):
        partner.identities.append(PartnerIdentity(standard=std, qualifier=qual, identifier=ident))

    existing = {s.document_type for s in partner.stages}
    for doc, stage in profile.stages.items():
        if doc not in existing:
            partner.stages.append(PartnerStage(document_type=doc, stage=stage, changed_at=now,
                                               changed_by=actor))

    known_hashes = set(session.scalars(
        select(Credential.secret_hash).where(Credential.partner_id == profile.id,
                                             Credential.kind == "api_token")))
    for token in profile.tokens:
        if token.sha256 not in known_hashes:
            session.add(Credential(partner_id=profile.id, kind="api_token", name=token.name,
                                   token_prefix=token.prefix, secret_hash=token.sha256,
                                   created_at=now))
    session.flush()
    append_audit(session, at=now, actor=actor,
                 action="partner.create" if created else "partner.update",
                 subject_type="partner", subject_id=profile.id,
                 details={"identities": len(profile.identities), "tokens": len(profile.tokens)})
    return partner, created


def list_partners(session: Session) -> Sequence[Partner]:
    return session.scalars(select(Partner).order_by(Partner.id)).all()


def find_partner_by_identity(session: Session, standard: str, identifier: str,
                             qualifier: str | None = None) -> Partner | None:
    query = select(PartnerIdentity).where(PartnerIdentity.standard == standard,
                                          PartnerIdentity.identifier == identifier)
    if qualifier is not None:
        query = query.where(PartnerIdentity.qualifier == qualifier)
    found = session.scalars(query).first()
    return found.partner if found else None


def stage_of(session: Session, partner_id: str, document_type: str) -> str:
    stages = {s.document_type: s.stage for s in session.scalars(
        select(PartnerStage).where(PartnerStage.partner_id == partner_id))}
    return stages.get(document_type, stages.get("*", Stage.EDI))


def issue_token(session: Session, *, token: str, now: datetime, partner_id: str | None,
                role: str | None, name: str) -> Credential:
    """Store a new API token (hash only). Exactly one of partner_id / role must be given."""
    if (partner_id is None) == (role is None):
        raise ValueError("a token belongs either to a partner or to an operator role")
    credential = Credential(partner_id=partner_id, role=role, kind="api_token", name=name,
                            token_prefix=token_prefix(token), secret_hash=hash_token(token),
                            created_at=now)
    session.add(credential)
    session.flush()
    return credential


def authenticate_token(session: Session, token: str, *, now: datetime) -> Credential | None:
    digest = hash_token(token)
    candidates = session.scalars(select(Credential).where(
        Credential.kind == "api_token", Credential.token_prefix == token_prefix(token),
        Credential.revoked_at.is_(None)))
    for credential in candidates:
        if credential.secret_hash and hmac.compare_digest(credential.secret_hash, digest):
            if credential.not_after and as_utc(credential.not_after) < now:
                return None
            return credential
    return None


def as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone=True columns; we always store UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def append_audit(session: Session, *, at: datetime, actor: str, action: str, subject_type: str,
                 subject_id: str, reason: str = "",
                 details: dict[str, Any] | None = None) -> AuditEntry:
    entry = AuditEntry(at=at, actor=actor, action=action, subject_type=subject_type,
                       subject_id=subject_id, reason=reason, details=details or {})
    session.add(entry)
    return entry


def audit_trail(session: Session, subject_type: str, subject_id: str) -> Sequence[AuditEntry]:
    return session.scalars(select(AuditEntry).where(
        AuditEntry.subject_type == subject_type, AuditEntry.subject_id == subject_id,
    ).order_by(AuditEntry.id)).all()


_SEQUENCES = ControlNumberSequence.__table__
_BUMP = (update(_SEQUENCES)
         .where(_SEQUENCES.c.partner_id == bindparam("b_partner"),
                _SEQUENCES.c.scope == bindparam("b_scope"))
         .values(next_value=_SEQUENCES.c.next_value + bindparam("b_count"))
         .returning(_SEQUENCES.c.next_value, _SEQUENCES.c.max_value))


def allocate_control_numbers(session: Session, partner_id: str, scope: str,
                             count: int = 1) -> list[int]:
    """Reserve ``count`` consecutive control numbers for a partner and scope.

    One ``UPDATE … RETURNING`` is atomic on both databases (PostgreSQL row lock; SQLite's
    writer lock, taken up front by BEGIN IMMEDIATE), so two processes never get the same number
    and a rolled-back transaction leaves no gap. X12/EDIFACT control numbers are at most nine
    digits; the sequence wraps to 1 past ``max_value``.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    # The sequence value is computed in SQL, never read-modify-written in Python. The row is
    # created on a partner's first use only (an insert attempt per call would double the
    # statements of every acknowledgment). Core on the session's connection: the ORM's bulk
    # update path cost several times the statement itself, and every acknowledgment takes two
    # or three numbers.
    conn = session.connection()
    params = {"b_partner": partner_id, "b_scope": scope, "b_count": count}
    result = conn.execute(_BUMP, params).first()
    if result is None:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(insert(ControlNumberSequence.__table__)
                     .values(partner_id=partner_id, scope=scope, next_value=1,
                             max_value=999_999_999)
                     .on_conflict_do_nothing())
        result = conn.execute(_BUMP, params).one()
    end, maximum = result
    start = end - count
    return [((n - 1) % maximum) + 1 for n in range(start, end)]
