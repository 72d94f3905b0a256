"""`crm products import|list|retire`, `crm import prices|rates` and `crm jobs run` for the
maturity reminders: the contract names, one line per bad row, non-zero exits, --json keys."""

from __future__ import annotations

import json

from tests.cli_support import crm_cli, init_db
from tests.test_products_catalogue import CATALOGUE


def test_catalogue_prices_and_rates_from_the_shell(tmp_path):
    db = str(init_db(tmp_path / "crm.db"))
    cat = tmp_path / "catalogue.csv"
    cat.write_text(CATALOGUE, encoding="utf-8")
    r = crm_cli("products", "import", str(cat), "--db", db)
    assert r.code == 0, r.err
    assert "3 rows, 3 new" in r.out
    assert "0 new, 0 updated, 3 unchanged" in crm_cli("products", "import", str(cat), "--db", db).out
    listed = json.loads(crm_cli("products", "list", "--json", "--db", db).out)
    assert [p["code"] for p in listed] == ["GS2026012", "HB0001", "JG2026001"]
    assert {"code", "name", "asset_class", "risk_level", "currency", "min_amount", "maturity_date",
            "issuer", "active"} <= set(listed[0])
    assert listed[2]["maturity_date"] == "2027-03-01" and listed[2]["min_amount"] == "50000.00"
    r = crm_cli("products", "retire", "HB0001", "--db", db)
    assert r.code == 0 and "HB0001" in r.out
    r = crm_cli("products", "retire", "HB0001", "--db", db)
    assert r.code != 0 and "already retired" in r.err and "Traceback" not in r.err
    assert [p["active"] for p in json.loads(
        crm_cli("products", "list", "--json", "--db", db).out)] == [True, False, True]

    prices = tmp_path / "nav.csv"
    prices.write_text("产品代码,日期,价格\nGS2026012,2026-12-01,1.0234\nGS2026012,2026-12-01,x\n",
                      encoding="utf-8")
    r = crm_cli("import", "prices", str(prices), "--db", db)
    assert r.code == 1 and "1 new" in r.out
    assert r.err.startswith("row 3: Price:")
    assert (tmp_path / "nav.csv.rejects.csv").exists()
    rates = tmp_path / "fx.csv"
    rates.write_text("currency,date,rate_to_cny\nUSD,2026-12-01,7.1234\n", encoding="utf-8")
    r = crm_cli("import", "rates", str(rates), "--db", db)
    assert r.code == 0 and "1 new" in r.out
    bad = tmp_path / "bad.csv"
    bad.write_text("colour,date\nred,2026-12-01\n", encoding="utf-8")
    r = crm_cli("import", "rates", str(bad), "--db", db)
    assert r.code != 0 and "colour" in r.err and "Traceback" not in r.err
    r = crm_cli("jobs", "run", "--json", "--db", db)
    assert r.code == 0 and json.loads(r.out)["maturity_tasks"] == 0
