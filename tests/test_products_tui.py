"""The profile's allocation panel, driven through the real app: the weights against the
C3 model with out-of-band classes marked, the redemptions suggested, and the purchase
block explained (张三's address proof is still pending); plus its SVG snapshot."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import update
from textual.widgets import DataTable

from crm_tui import i18n
from crm_tui.domain.kernel.context import Crm
from crm_tui.screens.profile import ProfileScreen
from crm_tui.store.models import Product
from crm_tui.widgets.allocation_panel import AllocationPanel
from tests.conftest import World
from tests.tui_support import build_book, screen_text, settle, signed_in_app


def _classes(crm: Crm) -> None:
    with crm.db.write() as s:
        s.execute(update(Product).where(Product.code == "DP0005").values(asset_class="cash"))
        s.execute(update(Product).where(Product.code == "FD0004").values(asset_class="mixed"))


async def test_allocation_panel_shows_drift_and_moves(sqlite_crm: Crm, sqlite_world: World):
    book = build_book(sqlite_crm, sqlite_world)
    _classes(sqlite_crm)
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_customer(book.zhang_san)
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        await pilot.press("5")
        await settle(pilot)
        panel = app.screen.query_one(AllocationPanel)
        text = screen_text(app)
        # 1.5M cash, 3M fixed income, 2.08M mixed of 6.58M → 22.80 / 45.59 / 31.61 %
        assert "Model C3 (band ±5 pp)" in text and "OUT OF BAND" in text
        rows = {str(r[0]).split(" ", 1)[1]: [str(c) for c in r[1:]] for r in
                (panel.query_one("#alloc-model", DataTable).get_row_at(i) for i in range(6))}
        assert rows["Cash & deposits"] == ["22.80%", "10%", "+12.80 !"]
        assert rows["Fixed income"] == ["45.59%", "45%", "+0.59"]
        assert rows["Mixed"] == ["31.61%", "25%", "+6.61 !"]
        assert rows["Equity"] == ["0.00%", "10%", "-10.00 !"]
        moves = panel.query_one("#alloc-moves", DataTable)
        first = [str(c) for c in moves.get_row_at(0)]
        # cash is 12.80 pp over: redeem 12.80 % of 6,580,000 = 842,240.00 from the deposit
        assert first[:4] == ["1", "Redeem", "DP0005 三年期大额存单（个人）", "842,240.00 CNY"]
        assert moves.row_count == 2  # and the mixed fund; no purchase: KYC is incomplete
        assert "KYC" in text or "incomplete" in text.lower() or "Address proof" in text
        assert panel.data is not None and panel.data.allocation.total == 6_580_000


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_allocation_snapshot(snap_compare: Callable[..., bool], sqlite_crm: Crm,
                             sqlite_world: World, chinese: None) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    _classes(sqlite_crm)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        pilot.app.open_customer(book.zhang_san)
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)

    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world), terminal_size=(120, 40),
                        run_before=run_before)


async def test_admin_catalogue_pane_lists_and_retires(sqlite_crm: Crm, sqlite_world: World):
    from sqlalchemy import select

    build_book(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world, "admin")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f12")
        await settle(pilot)
        text = screen_text(app)
        assert "Product catalogue" in text and "DP0005" in text and "WM0002" in text
        table = app.screen.query_one("#catalogue", DataTable)
        table.focus()
        table.move_cursor(row=0)  # DP0005 (codes in order)
        await pilot.press("x")
        await settle(pilot)
        assert "retired DP0005" in screen_text(app)
    with sqlite_crm.db.read() as s:
        assert s.scalar(select(Product.active).where(Product.code == "DP0005")) is False


async def test_portfolio_lists_pane_pages_opens_and_exports(sqlite_crm: Crm, sqlite_world: World,
                                                            tmp_path, monkeypatch):
    import stat

    monkeypatch.chdir(tmp_path)
    book = build_book(sqlite_crm, sqlite_world)
    _classes(sqlite_crm)
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f12")
        await settle(pilot)
        assert "Customers out of band" in screen_text(app) and "张三" in screen_text(app)
        await pilot.press("2")
        await settle(pilot)
        assert "Nothing on this list." in screen_text(app)  # C3 may hold R2 and R3
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        files = list(tmp_path.glob("out_of_band-*.csv"))
        assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
        assert "张三" in files[0].read_text(encoding="utf-8-sig")
        app.screen.query_one("#plist", DataTable).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen) and app.screen.customer_id == book.zhang_san
