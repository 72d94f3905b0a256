"""`crm fields …`: defining custom fields from the shell, one-line errors, JSON listing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_support import crm_cli, init_db


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return init_db(tmp_path / "crm.db")


def test_add_list_edit_retire(db: Path) -> None:
    r = crm_cli("fields", "add", "customer", "wechat_id", "--type", "text", "--label-zh", "微信号",
                "--label-en", "WeChat ID", "--pattern", "[A-Za-z][-_A-Za-z0-9]{5,19}",
                "--filterable", "--db", str(db))
    assert r.code == 0, r.err
    assert "customer.wechat_id" in r.out
    r = crm_cli("fields", "add", "customer", "campaign", "--type", "choice", "--label-zh", "来源活动",
                "--label-en", "Campaign", "--choices", "春季理财节,代发工资", "--required",
                "--db", str(db))
    assert r.code == 0, r.err
    listed = json.loads(crm_cli("fields", "list", "--json", "--db", str(db)).out)
    assert [(f["key"], f["type"], f["filterable"], f["required"]) for f in listed] == [
        ("wechat_id", "text", True, False), ("campaign", "choice", False, True)]
    assert listed[1]["choices"] == ["春季理财节", "代发工资"]
    assert crm_cli("fields", "edit", "customer", "campaign", "--choices", "春季理财节,代发工资,老带新",
                   "--db", str(db)).code == 0
    assert crm_cli("fields", "retire", "customer", "wechat_id", "--db", str(db)).code == 0
    listed = json.loads(crm_cli("fields", "list", "--json", "--all", "--db", str(db)).out)
    assert {f["key"]: (f["status"], f["version"]) for f in listed} == {
        "wechat_id": ("retired", 2), "campaign": ("active", 2)}
    history = json.loads(crm_cli("fields", "history", "customer", "campaign", "--db", str(db)).out)
    assert [h["change"] for h in history] == ["add", "edit"]


@pytest.mark.parametrize("args, words", [
    (["customer", "x1", "--type", "colour", "--label-zh", "色", "--label-en", "C"], "one of"),
    (["customer", "code", "--label-zh", "码", "--label-en", "C", "--pattern", "(a+)+"], "repeats"),
    (["customer", "code", "--label-zh", "码", "--label-en", "C", "--pattern", "[a-"], "regular"),
    (["customer", "name", "--label-zh", "名", "--label-en", "N"], "built-in"),
    (["planet", "x1", "--label-zh", "名", "--label-en", "N"], "allowed"),
    (["customer", "n1", "--type", "number", "--label-zh", "数", "--label-en", "N",
      "--min", "5", "--max", "1"], "--min"),
])
def test_bad_definitions_are_one_line_and_non_zero(db: Path, args: list[str], words: str) -> None:
    r = crm_cli("fields", "add", *args, "--db", str(db))
    assert r.code != 0
    assert words in r.err and "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1
