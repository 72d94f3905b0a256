"""A configuration change as the approval detail shows it: the change in words, one line
each (as `crm policy diff` prints them), then the measured impact (as `crm policy apply
--dry-run` prints it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crm_tui.i18n import t
from crm_tui.i18n.words import say

if TYPE_CHECKING:
    from crm_tui.domain.compliance.policy_review import ReviewText


def review_lines(review: ReviewText | None) -> list[str]:
    if review is None:
        return []
    lines = [t("forms_values.review.changes")]
    lines += [f"  {say(key, params)}" for key, params in review.changes] or \
        [f"  {t('policy.diff.none')}"]
    if review.impact:
        lines.append(t("policy.impact.title"))
        lines += [f"  {say(key, params)}" for key, params in review.impact]
        lines += [f"    {say(key, params)}" for key, params in review.rule_changes]
    return lines
