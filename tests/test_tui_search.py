"""Customer search as you type: what each kind of query finds, scope, paging, opening."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from crm_tui.domain.customers import records
from crm_tui.domain.kernel.context import Crm
from crm_tui.screens.customer_search import PAGE
from crm_tui.screens.main import MainScreen
from crm_tui.screens.profile import ProfileScreen
from tests.conftest import World, valid_id
from tests.tui_support import ZHANG_SAN_ID, build_book, screen_text, search, settle, signed_in_app


def _names(app) -> list[str]:  # type: ignore[no-untyped-def]
    table = app.screen.query_one("#search-results", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_queries_find_by_initials_phone_tail_and_id_and_open(
        sqlite_crm: Crm, sqlite_world: World) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.screen.badges["customers"] == 4  # rm1's book; 王五 is rm3's
        assert app.screen.query_one("#area-switcher").current == "my_day"  # an RM's home
        await pilot.press("f2")
        await settle(pilot)
        assert app.focused is app.screen.query_one("#search-input")

        await search(pilot, "zs", wait_debounce=True)
        assert _names(app) == ["张三", "赵四"]
        text = screen_text(app)
        assert "*******5678" in text and "¥6,580,000.00" in text and "C3 Balanced" in text
        assert "Matches: 2" in text

        await search(pilot, "5678")  # phone tail: 王五 shares it but is not rm1's customer
        assert _names(app) == ["张三", "陈静怡"]

        await search(pilot, "zhangsan")
        assert _names(app) == ["张三"]
        await search(pilot, ZHANG_SAN_ID)
        assert _names(app) == ["张三"]
        await search(pilot, "13987654321")
        assert _names(app) == ["李四"]
        await search(pilot, "张")
        assert _names(app) == ["张三"]

        await search(pilot, "wangwu")
        assert _names(app) == []
        assert "No customer in your book matches “wangwu”." in screen_text(app)

        await search(pilot, "zs")
        await pilot.press("down", "enter")  # from the box into the list, then open
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        assert app.screen.customer_id == book.zhang_san
        assert "张三" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def test_more_rows_load_at_the_end_of_the_list(sqlite_crm: Crm,
                                                     sqlite_world: World) -> None:
    total = PAGE + 7
    names = ["欧阳" + "".join(chr(65 + d) for d in (n // 676, n // 26 % 26, n % 26))
             for n in range(total)]
    for n, name in enumerate(names):
        records.create_customer(sqlite_crm, sqlite_world["rm1"], {
            "name": name, "national_id": valid_id(f"11010119900101{n:03d}")})
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(120, 40)) as pilot:
        await search(pilot, "oy")
        table = app.screen.query_one("#search-results", DataTable)
        assert table.row_count == PAGE
        assert f"First {PAGE} matches" in screen_text(app)
        table.focus()
        for _ in range(5):  # reaching the end asks for the next page; on a busy machine the
            await pilot.press("ctrl+end")  # first scroll may land before the table grew
            await settle(pilot)
            if table.row_count == total:
                break
        assert table.row_count == total
        # all her own, none contacted yet: the newest first, each once across the pages
        assert _names(app) == names[::-1]
        assert f"Matches: {total}" in screen_text(app)


async def test_admin_gets_no_customer_area(sqlite_crm: Crm, sqlite_world: World) -> None:
    app = signed_in_app(sqlite_crm, sqlite_world, "admin")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        # the admin keeps the configuration areas (catalogue, custom fields), never a
        # customer list
        ids = {a.id for a in app.screen.areas}
        assert {"products", "fields"} <= ids
        assert not ids & {"customers", "portfolios", "pipeline", "leads", "kpi"}


async def test_enter_opens_the_first_result_and_esc_returns_to_the_query(
        sqlite_crm: Crm, sqlite_world: World) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.show_area("customers", focus=True)  # My day is an RM's first area
        await pilot.press(*"zs", "enter")  # before the debounce: search, then open
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        assert app.screen.customer_id == book.zhang_san
        await pilot.press("escape")
        await settle(pilot)
        box = app.screen.query_one("#search-input", Input)
        assert app.focused is box and box.value == "zs"
        await pilot.press("backspace", "s", "enter")  # rows already those of the query
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        await pilot.press("f3")  # area keys work inside a profile
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
