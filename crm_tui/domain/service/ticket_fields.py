"""The ticket's fields, declared once in the field registry (kernel.fields): the TUI form,
`crm import tickets` and the domain's own checks all clean a ticket through `clean_ticket`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from crm_tui.domain.kernel.errors import FieldError
from crm_tui.domain.kernel.fields import FieldSpec, clean, register
from crm_tui.domain.kernel.validation import BadValue, normalise_text
from crm_tui.domain.policy.service_policy import PRIORITIES, TICKET_TYPES

ENTITY = "ticket"
TICKET_CHANNELS = ("branch", "phone", "mobile_app", "web", "wechat", "email")
SUBJECT_MAX = 200
DESCRIPTION_MAX = 4000

# Spoken aliases: a call-centre export says 投诉 or 紧急, not "complaint" / "urgent".
_TYPE_WORDS = {"咨询": "inquiry", "交易协助": "transaction_help", "业务办理": "transaction_help",
               "信息变更": "info_change", "投诉": "complaint", "其他": "other"}
_PRIORITY_WORDS = {"紧急": "urgent", "高": "high", "普通": "normal", "一般": "normal", "低": "low"}
_CHANNEL_WORDS = {"网点": "branch", "柜面": "branch", "电话": "phone", "手机银行": "mobile_app",
                  "网银": "web", "微信": "wechat", "邮件": "email"}


def _mapped(words: dict[str, str], choices: tuple[str, ...]) -> Any:
    def parse(raw: Any) -> str:
        text = normalise_text(str(raw))
        value = words.get(text, text.lower())
        if value not in choices:
            raise BadValue("validation.choice", value=text)
        return value
    return parse


def parse_when(raw: Any, tz: str = "Asia/Shanghai") -> datetime:
    """A history time from a file: ISO 8601, with an offset or in the display zone."""
    if isinstance(raw, datetime):
        value = raw
    else:
        text = normalise_text(str(raw)).replace("/", "-")
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise BadValue("validation.datetime", value=text[:40]) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    if not 2000 <= value.year <= 2100:
        raise BadValue("validation.datetime", value=str(raw)[:40])
    return value.astimezone(UTC)


SPECS = (
    FieldSpec("type", "field.ticket_type", "choice", required=True, choices=TICKET_TYPES,
              choice_prefix="service.type", parser=_mapped(_TYPE_WORDS, TICKET_TYPES),
              aliases=("ticket type", "工单类型", "类型"), export_column="type"),
    FieldSpec("priority", "field.ticket_priority", "choice", choices=PRIORITIES,
              choice_prefix="service.priority", parser=_mapped(_PRIORITY_WORDS, PRIORITIES),
              aliases=("urgency", "紧急程度", "优先级"), export_column="priority"),
    FieldSpec("subject", "field.ticket_subject", "text", required=True, max_length=SUBJECT_MAX,
              aliases=("title", "标题", "主题", "事由"), export_column="subject"),
    FieldSpec("description", "field.ticket_description", "long_text",
              max_length=DESCRIPTION_MAX, aliases=("details", "描述", "详情", "内容"),
              export_column="description"),
    FieldSpec("channel", "field.ticket_channel", "choice", choices=TICKET_CHANNELS,
              choice_prefix="channel", parser=_mapped(_CHANNEL_WORDS, TICKET_CHANNELS),
              aliases=("来源渠道", "渠道"), export_column="channel"),
)
# Only in files: how the call centre names the customer, and when the call came in.
IMPORT_SPECS = (
    FieldSpec("national_id", "field.national_id", "text", max_length=40,
              aliases=("id number", "身份证号", "证件号码", "证件号")),
    FieldSpec("phone", "field.phone", "text", max_length=40,
              aliases=("mobile", "手机号", "手机号码", "联系电话")),
    FieldSpec("created_at", "field.ticket_created_at", "text", parser=parse_when,
              aliases=("received at", "受理时间", "创建时间")),
)
register(ENTITY, SPECS)
register("ticket_import", (*SPECS, *IMPORT_SPECS))

FORM_KEYS = tuple(s.key for s in SPECS)


def clean_ticket(raw: dict[str, Any], *, row: int | None = None,
                 entity: str = ENTITY) -> tuple[dict[str, Any], list[FieldError]]:
    """Every field of a new ticket, with its defaults (normal priority, branch channel)."""
    values, errors = clean(entity, raw, row=row)
    values["priority"] = values.get("priority") or "normal"
    values["channel"] = values.get("channel") or "branch"
    values["description"] = values.get("description") or ""
    return values, errors
