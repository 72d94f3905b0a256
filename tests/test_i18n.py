"""Every user-facing string goes through the catalog, and both languages are complete."""

from __future__ import annotations

import ast
import string
from pathlib import Path

from crm_tui import i18n

ROOT = Path(__file__).resolve().parents[1] / "crm_tui"


def test_zh_and_en_have_the_same_keys() -> None:
    en, zh = set(i18n.catalog("en")), set(i18n.catalog("zh_CN"))
    assert en - zh == set(), f"missing in zh_CN: {sorted(en - zh)[:20]}"
    assert zh - en == set(), f"missing in en: {sorted(zh - en)[:20]}"


def test_placeholders_match_between_languages() -> None:
    fmt = string.Formatter()
    en, zh = i18n.catalog("en"), i18n.catalog("zh_CN")
    for key, text in en.items():
        a = {f for _, f, _, _ in fmt.parse(text) if f}
        b = {f for _, f, _, _ in fmt.parse(zh[key]) if f}
        assert a == b, f"{key}: {a} vs {b}"


def test_every_literal_key_used_in_code_exists() -> None:
    known = set(i18n.catalog("en"))
    missing = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "t"
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                if node.args[0].value not in known:
                    missing.append(f"{path.name}:{node.lineno} {node.args[0].value}")
    assert not missing, missing


def test_language_choice(monkeypatch) -> None:
    monkeypatch.setenv("CRM_LANG", "zh-CN")
    assert i18n.set_language(None) == "zh_CN"
    assert i18n.t("field.name") == "姓名"
    monkeypatch.setenv("CRM_LANG", "en")
    assert i18n.set_language(None) == "en"
    assert i18n.t("field.name") == "Name"
    assert i18n.t("error.conflict", version=3).endswith("edit again.")


def test_a_bare_c_locale_means_chinese(monkeypatch) -> None:
    monkeypatch.delenv("CRM_LANG", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert i18n.detect_language() == "zh_CN"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert i18n.detect_language() == "en"
