"""Forecast figures against hand-computed values, the dashboard figures, and money on pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from crm_pipeline.services import create_opportunity, lose_opportunity, move_stage, win_opportunity
from crm_pipeline.services.forecast import dashboard_figures, forecast

from crm_core.services.customers import local_today


def _opp(people, owner, amount, close, stage="lead", probability=None, currency="CNY"):
    data = {"customer_id": people.customer(owner).id, "name": f"{owner} {amount}", "amount": amount,
            "expected_close": close, "stage": stage, "currency": currency}
    if probability is not None:
        data["probability"] = probability
    return create_opportunity(people.ctx(owner), data)


def _figures(rows):
    return {r.key: (r.open_count, r.open_amount, r.weighted, r.won_count, r.won_amount)
            for r in rows if r.currency == "CNY"}


def test_forecast_by_month_owner_and_team(people):
    D = Decimal
    _opp(people, "rep_a", "100000.00", "2031-01-15", "proposal")          # 50 %
    _opp(people, "rep_a", "33333.33", "2031-01-31", "intent")             # 30 %
    _opp(people, "rep_b", "20000.00", "2031-02-01", "negotiation", 65)    # overridden 65 %
    _opp(people, "rep_s", "0.01", "2031-02-10", "lead")                   # 10 % of a cent
    won = _opp(people, "rep_b", "55000.55", "2031-03-01", "negotiation")
    win_opportunity(people.ctx("rep_b"), won.id)
    lost = _opp(people, "rep_s", "99999.00", "2031-01-20")
    lose_opportunity(people.ctx("rep_s"), lost.id, "too expensive")
    _opp(people, "rep_a", "7000.00", "2031-01-05", currency="USD")
    month = local_today().strftime("%Y-%m")
    admin = people.ctx("admin")
    by_month = _figures(forecast(admin, "month"))
    # Jan: 100000×50% + 33333.33×30% = 50000 + 9999.999 = 59999.999 → 60000.00 (rounded once,
    # after the exact sum; rounding each row first would give 59999.99 + … drift)
    assert by_month["2031-01"] == (2, D("133333.33"), D("60000.00"), 0, D("0.00"))
    assert by_month["2031-02"] == (2, D("20000.01"), D("13000.00"), 0, D("0.00"))
    assert by_month[month] == (0, D("0.00"), D("0.00"), 1, D("55000.55"))
    assert "2031-03" not in by_month  # a won deal counts when it was won
    usd = [r for r in forecast(admin, "month") if r.currency == "USD"]
    assert [(r.key, r.open_amount) for r in usd] == [("2031-01", D("7000.00"))]
    by_owner = _figures(forecast(admin, "owner"))
    assert by_owner[str(people.ids["rep_a"])] == (2, D("133333.33"), D("60000.00"), 0, D("0.00"))
    assert by_owner[str(people.ids["rep_b"])] == (1, D("20000.00"), D("13000.00"), 1, D("55000.55"))
    assert by_owner[str(people.ids["rep_s"])] == (1, D("0.01"), D("0.00"), 0, D("0.00"))
    teams = {r.label: r for r in forecast(admin, "team") if r.currency == "CNY"}
    assert teams["east"].open_amount == D("153333.33") and teams["east"].won_amount == D("55000.55")
    assert teams["east"].weighted == D("73000.00")  # 50000 + 9999.999 + 13000
    assert teams["south"].open_count == 1 and teams["south"].won_count == 0
    # a period limits by the same dates; a rep's forecast is their own
    only_feb = _figures(forecast(admin, "month", date(2031, 2, 1), date(2031, 2, 28)))
    assert set(only_feb) == {"2031-02"}
    mine = _figures(forecast(people.ctx("rep_a"), "month"))
    assert mine == {"2031-01": (2, D("133333.33"), D("60000.00"), 0, D("0.00"))}


def test_dashboard_figures(people):
    today = local_today()
    won = _opp(people, "rep_a", "12345.67", today.isoformat(), "intent")
    win_opportunity(people.ctx("rep_a"), won.id)
    _opp(people, "rep_a", "10000", today.isoformat(), "proposal")       # 50 % this month
    other = _opp(people, "rep_a", "20000", "2040-01-01", "lead")          # 10 % later
    move_stage(people.ctx("rep_a"), other.id, "negotiation")              # → 70 %
    figures = dashboard_figures(people.ctx("rep_a"), today)
    (cny,) = figures["rows"]
    assert cny["won_amount"] == Decimal("12345.67") and cny["won_count"] == 1
    assert cny["weighted_month"] == Decimal("5000.00")
    assert cny["weighted_all"] == Decimal("19000.00") and cny["open_count"] == 2
    assert dashboard_figures(people.ctx("rep_s"), today)["rows"][0]["won_amount"] == Decimal("0.00")


def test_forecast_page_formats_money_for_the_locale(crm_app, people):
    _opp(people, "rep_a", "1234567.89", "2031-05-05", "proposal")
    people.factory.user("admin", login="admin_en", locale="en")
    for login, expected in (("admin", "¥1,234,567.89"), ("admin_en", "CN¥1,234,567.89")):
        c = crm_app.client()
        assert c.login(login).status_code == 303
        page = c.get("/pipeline/forecast?start=2031-01-01&end=2031-12-31")
        assert expected in page.text and "2031-05" in page.text
        assert ("加权预测" if login == "admin" else "Weighted forecast") in page.text
        assert "¥617,283.95" in page.text  # weighted: 1234567.89 × 50 % = 617283.945 → .95 (half up)
    c = crm_app.client()
    c.login("rep_b")  # another rep's opportunities are not in their forecast
    assert c.get("/pipeline/forecast?start=2031-01-01&end=2031-12-31").text.count("1,234,567.89") == 0
