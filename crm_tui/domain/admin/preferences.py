"""A member of staff's own preferences (today: the language), changed by themselves."""

from __future__ import annotations

from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, NotFound, ValidationFailed
from crm_tui.store.models import Staff

LANGUAGES = ("zh_CN", "en")


def language_of(crm: Crm, actor: Actor) -> str:
    """The stored preference ("" when never chosen)."""
    if actor.id is None:
        return ""
    with crm.db.read() as session:
        s = session.get(Staff, actor.id)
        return s.language if s else ""


def set_language(crm: Crm, actor: Actor, language: str) -> str:
    if language not in LANGUAGES:
        raise ValidationFailed([FieldError("language", "validation.language",
                                           {"value": language, "choices": ", ".join(LANGUAGES)})])
    with crm.db.write() as session:
        s = session.get(Staff, actor.id) if actor.id is not None else None
        if s is None:
            raise NotFound("error.user_not_found", username=actor.username)
        if s.language != language:
            audit.record(crm.db, session, actor, "staff.set_language", "staff", s.id,
                         {"language": s.language}, {"language": language})
            s.language = language
            session.add(s)
    return language
