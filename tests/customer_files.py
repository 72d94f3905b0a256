"""Customer import files for tests: valid rows by the thousand, written as CSV or XLSX."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

from crm_tui.domain.kernel.validation import id_check_digit

HEADERS_ZH = ["姓名", "证件类型", "证件号码", "手机号", "邮箱", "出生日期", "性别", "地址", "风险等级",
              "资产规模", "所属网点", "客户经理"]
HEADERS_EN = ["name", "id_type", "national_id", "phone", "email", "birth_date", "gender", "address",
              "risk_level", "aum", "branch_code", "rm_username"]
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
             "许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
_GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥"
          "玲兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞")


def national_id(n: int, birth: str = "19850612", area: str = "110105") -> str:
    """A valid, distinct resident ID for each n < 1000 per birth date (n picks the date too)."""
    year = 1950 + (n // 1000) % 50
    day = 1 + (n // 50_000) % 28
    if birth != "19850612":
        first17 = f"{area}{birth}{n % 1000:03d}"
    else:
        first17 = f"{area}{year}{1 + (n // 1000 // 50) % 12:02d}{day:02d}{n % 1000:03d}"
    return first17 + id_check_digit(first17)


def rows(count: int, *, start: int = 0, branch: str = "BJ01", rm: str = "rm1",
         seed: int = 7) -> Iterator[list[str]]:
    """`count` good rows in HEADERS order; row i has national_id(start + i)."""
    rnd = random.Random(seed + start)
    for i in range(start, start + count):
        nid = national_id(i)
        name = rnd.choice(_SURNAMES) + rnd.choice(_GIVEN) + (rnd.choice(_GIVEN) if i % 3 else "")
        yield [name, "身份证", nid, f"13{rnd.randrange(10**9):09d}", f"c{i}@example.cn",
               f"{nid[6:10]}-{nid[10:12]}-{nid[12:14]}", "男" if int(nid[16]) % 2 else "女",
               "北京市朝阳区建国路88号", "C3", f"{_aum(rnd):,.2f}", branch, rm]


def _aum(rnd: random.Random) -> float:
    """A retail book's AUM: median about 160,000 yuan, roughly 1 % above 6 million."""
    return round(min(rnd.lognormvariate(12, 1.5), 5e8), 2)


def write_csv(path: Path, body: Sequence[Sequence[object]] | Iterator[list[str]],
              headers: Sequence[str] = HEADERS_ZH, encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(body)
    return path


def write_xlsx(path: Path, body: Sequence[Sequence[object]], headers: Sequence[str] = HEADERS_ZH) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for r in body:
        ws.append(list(r))
    wb.save(path)
    return path
