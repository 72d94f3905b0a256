"""Proposal and contract documents, rendered from Jinja2 templates (the policy's own, or
the shipped ones) as Markdown, then HTML with markdown-it. Templates run sandboxed: a
policy author can lay out text, not call code. Values are passed in, already formatted;
labels come from the catalog through `t`."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt

from crm_tui.domain.kernel.errors import PolicyInvalid
from crm_tui.domain.kernel.errors import translate as t  # a document is rendered for a reader

HERE = Path(__file__).with_name("templates")


@cache
def _env() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                               keep_trailing_newline=True)
    env.globals["t"] = t
    return env


def shipped(name: str) -> str:
    return (HERE / f"{name}.md.j2").read_text(encoding="utf-8")


def render_markdown(template: str | None, name: str, context: dict[str, Any]) -> str:
    try:
        return _env().from_string(template or shipped(name)).render(**context)
    except TemplateError as exc:
        raise PolicyInvalid("sales.error.template", name=name, detail=str(exc)[:200]) from exc


def to_html(markdown: str) -> str:
    """Markdown to an HTML page; raw HTML in the Markdown is escaped, not passed through."""
    body = MarkdownIt("js-default").render(markdown)
    return ("<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<title>crm-tui</title></head>\n<body>\n" + body + "</body></html>\n")
