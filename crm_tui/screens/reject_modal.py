"""Reject a request with the comment the domain requires (from the inbox or the detail)."""

from __future__ import annotations

from crm_tui.i18n import t
from crm_tui.screens.reason_modal import ReasonModal


class RejectModal(ReasonModal):
    """Reject with the comment the domain requires; dismisses with the outcome line."""

    SUBMIT_LABEL = "tui.compliance.reject_confirm"
    FIELD = "approval_comment"
    INPUT_ID = "reject-comment"
    PLACEHOLDER = "tui.compliance.reject_hint"

    def __init__(self, request_id: int) -> None:
        super().__init__(t("tui.compliance.reject_title", id=request_id))
        self.request_id = request_id

    def perform(self, text: str) -> None:
        from crm_tui.domain.compliance import approvals

        approvals.reject(self.crm, self.actor, self.request_id, text)

    def done_text(self) -> str:
        return t("tui.compliance.rejected", id=self.request_id)
