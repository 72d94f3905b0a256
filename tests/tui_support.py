"""A small, fixed book of customers for the TUI tests and snapshots.

Everything is built through domain functions except what the domain does not write
yet (KYC documents, risk assessments, products and holdings) and the creation time,
which is pinned so snapshots do not change from run to run.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime

from rich.console import Console
from sqlalchemy import update
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, Static

from crm_tui.app import CrmApp
from crm_tui.domain.customers import interactions, records, relationships
from crm_tui.domain.customers.interactions import NewInteraction
from crm_tui.domain.customers.tags import add_tag
from crm_tui.domain.kernel.context import Crm
from crm_tui.store.models import (
    Customer,
    Holding,
    Interaction,
    KycDocument,
    Product,
    RiskAssessment,
)
from crm_tui.widgets.session import SignedIn
from tests.conftest import PASSWORD, World, valid_id

TODAY = date(2025, 6, 16)
CREATED = datetime(2023, 3, 1, 2, 0, tzinfo=UTC)
ZHANG_SAN_ID = valid_id("11010519800512003")
ZHANG_SAN_PHONE = "13812345678"

__all__ = ["PASSWORD", "TODAY", "Book", "build_book", "screen_text", "search", "settle", "sign_in",
           "new_app", "signed_in_app", "text_of"]


@dataclass
class Book:
    zhang_san: int
    li_si: int
    zhao_si: int
    wang_wu: int  # rm3's customer: outside rm1's book
    chen_jing: int


def _customer(crm: Crm, world: World, rm: str, raw: dict[str, str]) -> int:
    return records.create_customer(crm, world[rm], raw)


def build_book(crm: Crm, world: World) -> Book:
    zs = _customer(crm, world, "rm1", {
        "name": "张三", "national_id": ZHANG_SAN_ID, "phone": ZHANG_SAN_PHONE,
        "bank_account": "6222020200112233445", "email": "zhangsan@example.cn",
        "address": "北京市朝阳区建国路88号SOHO现代城3号楼1201", "occupation": "企业高管",
        "annual_income": "1,200,000.00", "risk_level": "C3", "aum": "6,580,000.00"})
    ls = _customer(crm, world, "rm1", {
        "name": "李四", "national_id": valid_id("11010519820823004"), "phone": "13987654321",
        "risk_level": "C2", "aum": "820,000.00", "occupation": "中学教师"})
    zhao = _customer(crm, world, "rm1", {
        "name": "赵四", "national_id": valid_id("11010819750304005"), "phone": "13600001234",
        "risk_level": "C1", "aum": "150,000.50"})
    chen = _customer(crm, world, "rm1", {
        "name": "陈静怡", "national_id": valid_id("11010219900101006"), "phone": "15811115678",
        "risk_level": "C4", "aum": "2,350,000.00"})
    ww = _customer(crm, world, "rm3", {
        "name": "王五", "national_id": valid_id("11010619700707007"), "phone": "13700005678",
        "risk_level": "C4", "aum": "3,000,000.00"})

    relationships.add_relationship(crm, world["rm1"], zs, ls, "spouse")
    relationships.add_relationship(crm, world["bh1"], zs, ww, "business_partner")
    relationships.add_relationship(crm, world["rm1"], ls, chen, "influencer")
    add_tag(crm, world["rm1"], zs, "重点维护")

    base = datetime(2025, 6, 10, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    dues: dict[int, date] = {}
    for n, (channel, subject, nxt, due) in enumerate([
        ("branch", "年度资产配置回顾", "寄送基金产品说明书", date(2025, 6, 20)),
        ("phone", "到期理财续作意向沟通", "", None),
        ("wechat", "推送稳健型理财产品信息", "电话确认购买意向", date(2025, 6, 12)),
    ]):
        new_id = interactions.log_interaction(crm, world["rm1"], zs, NewInteraction(
            channel=channel, subject=subject, summary=f"客户关注收益稳定性。第{n + 1}次记录。",
            next_action=nxt, occurred_at=base.replace(day=10 - 3 * n)))
        if due:
            dues[new_id] = due  # the domain refuses past due dates; these are pinned history

    with crm.db.write() as s:
        for interaction_id, due in dues.items():
            s.execute(update(Interaction).where(Interaction.id == interaction_id)
                      .values(next_action_due=due))
        s.execute(update(Customer).values(created_at=CREATED, updated_at=CREATED))
        s.execute(update(Customer).where(Customer.id == zs).values(
            risk_valid_until=date(2025, 7, 1), goals="子女教育金储备，兼顾流动性"))
        s.add(RiskAssessment(customer_id=zs, level="C3", score=56, valid_until=date(2025, 7, 1),
                             assessed_at=datetime(2024, 7, 1, tzinfo=UTC)))
        s.add(KycDocument(customer_id=zs, kind="id_proof", status="verified",
                          expires_on=date(2038, 5, 12), verified_at=CREATED))
        s.add(KycDocument(customer_id=zs, kind="address_proof", status="pending",
                          uploaded_at=CREATED))
        products = [Product(code="WM0002", name="安享稳健六个月持有期理财", category="wealth",
                            risk_level="R2"),
                    Product(code="FD0004", name="恒通平衡配置混合型基金", category="fund",
                            risk_level="R3"),
                    Product(code="DP0005", name="三年期大额存单（个人）", category="deposit",
                            risk_level="R1")]
        s.add_all(products)
        s.flush()
        for product, fen in zip(products, (300_000_000, 208_000_000, 150_000_000), strict=True):
            s.add(Holding(customer_id=zs, product_id=product.id or 0, amount_fen=fen, units_e4=fen * 100))
    return Book(zs, ls, zhao, ww, chen)


async def settle(pilot: Pilot[None], *, quiet_rounds: int = 3, timeout: float = 30.0) -> None:
    """Wait until the app is quiet: no worker pending or running across `quiet_rounds`
    pauses in a row. A fixed number of rounds was not enough under load: a save's answer
    dismisses a form, the dismiss callback starts a reload, and that reload's answer starts
    a panel's load, so each round may start the next worker after the last wait began."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    while quiet < quiet_rounds and loop.time() < deadline:
        busy = [w for w in app.workers if not w.is_finished]
        if busy:
            quiet = 0
            await app.workers.wait_for_complete(busy)
        else:
            quiet += 1
        await pilot.pause()


async def open_area(pilot: Pilot[None], key: str) -> None:
    """Wait for the first screen to settle, press the area's function key, settle again."""
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)


async def sign_in(pilot: Pilot[None], username: str = "rm1", password: str = PASSWORD) -> None:
    app = pilot.app
    app.screen.query_one("#username", Input).value = username
    app.screen.query_one("#password", Input).value = password
    app.screen.query_one("#password", Input).focus()
    await pilot.press("enter")
    await settle(pilot)


async def search(pilot: Pilot[None], text: str, *, wait_debounce: bool = False) -> None:
    """Type `text` into the customer search; then wait out the debounce, or run it at once
    (Enter would open the first result). (My day is an RM's first area; the search lives
    in the customers area.)"""
    show_area = getattr(pilot.app.screen, "show_area", None)
    if show_area is not None:
        show_area("customers")
    field = pilot.app.screen.query_one("#search-input", Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)
    if wait_debounce:
        await pilot.pause(0.35)
    else:
        from crm_tui.screens.customer_search import CustomerSearchPane

        pilot.app.screen.query_one(CustomerSearchPane).search(text)
    await settle(pilot)


def screen_text(app: App[None]) -> str:
    """What the terminal shows, as plain text (CJK cells collapse to their characters)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens, simplify=True))
    return console.export_text(styles=False)


def text_of(app: App[None], selector: str) -> str:
    """The plain text a Static on the current screen holds."""
    return str(app.screen.query_one(selector, Static).content)


def new_app(crm: Crm, session: SignedIn | None = None) -> CrmApp:
    """The app on a pinned date, without animations (they only cost test time)."""
    app = CrmApp(crm, today=TODAY, session=session)
    app.animation_level = "none"
    return app


def signed_in_app(crm: Crm, world: World, username: str = "rm1") -> CrmApp:
    """The app already past the login screen (sign-in itself is tested on its own; argon2
    costs most of a second per login on this machine)."""
    return new_app(crm, SignedIn(world[username], "北京分行营业部", "财富一组"))
