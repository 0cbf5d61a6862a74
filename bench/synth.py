"""Deterministic synthetic customers and contacts, produced in batches of database-ready rows.

Every batch is seeded from ``(seed, first id)`` alone, so the data does not depend on batch
order or on how many processes produce it. Values follow what the services write: names
NFKC-clean, phones normalised to E.164 and encrypted with the kernel's ``FieldCipher`` beside
their blind index, codes from ``allocate_codes`` blocks, times in UTC.

Rows are tuples in the tables' column order holding the values *as bound to SQLite*: what the
columns' own SQLAlchemy bind processors produce (``UTCDateTime`` → ``'YYYY-MM-DD HH:MM:SS.ffffff'``,
``JSON`` → text, ``Boolean`` → 0/1). Doing that here, in the producer process, keeps the writer
process free for SQLite; ``check_rows`` proves the values equal the processors' output.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.dialects import sqlite

from bench import vocab
from crm_core.crypto import FieldCipher
from crm_core.models import Contact, Customer

CUSTOMER_COLUMNS = ("created_at", "updated_at", "version", "id", "code", "name", "type", "industry",
                    "source", "status", "region", "owner_id", "first_contact_date", "id_number_enc",
                    "address", "website", "remark", "custom", "created_by_id", "last_followup_at")
CONTACT_COLUMNS = ("created_at", "updated_at", "version", "id", "customer_id", "name", "title",
                   "is_primary", "phone_enc", "phone_bidx", "email", "id_number_enc", "wechat",
                   "remark", "custom")
LOCAL_OFFSET_US = 8 * 3600 * 1_000_000  # Asia/Shanghai, no DST
DAY_US = 86400 * 1_000_000
Row = tuple[Any, ...]

_DIALECT = sqlite.dialect()
_HMS = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]


def bind_processor(table: Any, column: str) -> Any:
    """The function SQLAlchemy applies to a value of ``table.column`` before SQLite sees it."""
    impl = table.c[column].type.dialect_impl(_DIALECT)
    return impl.bind_processor(_DIALECT) or (lambda v: v)


_JSON_EMPTY = bind_processor(Customer.__table__, "custom")({})
_TRUE = bind_processor(Contact.__table__, "is_primary")(True)
_FALSE = bind_processor(Contact.__table__, "is_primary")(False)


def _cum(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


_REGION_NAMES = list(vocab.REGIONS)
_REGION_CUM = _cum([w for w, _ in vocab.REGIONS.values()])
_LETTERS = list(vocab.INDUSTRIES)
_LETTER_CUM = _cum([w for w, _ in vocab.INDUSTRIES.values()])
_SUFFIXES = [s for s, _ in vocab.SUFFIXES]
_SUFFIX_CUM = _cum([w for _, w in vocab.SUFFIXES])
_SOURCES = [s for s, _ in vocab.SOURCES]
_SOURCE_CUM = _cum([w for _, w in vocab.SOURCES])
_STATUSES = [s for s, _ in vocab.STATUSES]
_STATUS_CUM = _cum([w for _, w in vocab.STATUSES])
_REMARKS = ("展会名片", "老客户转介绍", "需要报价", "预算待定", "关注售后服务", "年底集中采购",
            "对价格敏感", "已发样品", "等待招标结果")


def person_pool(seed: int, size: int = 40_000) -> list[tuple[str, str, str]]:
    """``size`` person names as (name, surname pinyin, given-name pinyin); common surnames and
    one-character given names repeat, as they do in life."""
    rng = random.Random(f"{seed}:people")
    surnames = [(s, p) for s, p, _ in vocab.SURNAMES]
    cum = _cum([w for _, _, w in vocab.SURNAMES])
    out = []
    for sur, sur_py in rng.choices(surnames, cum_weights=cum, k=size):
        given = rng.choices(vocab.GIVEN, k=1 if rng.random() < 0.3 else 2)
        out.append((sur + "".join(c for c, _ in given), sur_py, "".join(p for _, p in given)))
    return out


@dataclass(frozen=True)
class Plan:
    """What to generate: ``n`` customers created over ``days`` local days ending ``until``."""

    n: int
    seed: int
    until: date
    days: int
    owners: tuple[int, ...]  # user ids of the reps
    owner_weights: tuple[float, ...]
    contacts_per_customer: int = 1

    def first_day(self) -> date:
        return self.until - timedelta(days=self.days - 1)

    def day_counts(self) -> list[int]:
        """Customers created per local day: fewer at weekends, growing over time."""
        rng = random.Random(f"{self.seed}:days")
        first = self.first_day()
        weights = []
        for i in range(self.days):
            weekend = (first + timedelta(days=i)).weekday() >= 5
            weights.append((0.25 if weekend else 1.0) * (0.6 + 0.8 * i / self.days)
                           * rng.uniform(0.8, 1.2))
        total = sum(weights)
        counts = [int(self.n * w / total) for w in weights]
        for i in range(self.n - sum(counts)):
            counts[-1 - (i % self.days)] += 1
        return counts


class Generator:
    """Makes the rows of customers ``start .. start + n - 1`` and their contacts."""

    def __init__(self, plan: Plan, codes: Sequence[str], cipher: FieldCipher) -> None:
        self.plan = plan
        self.codes = codes
        self.cipher = cipher
        self.counts = plan.day_counts()
        self.day_starts = [1 + s for s in itertools.accumulate([0, *self.counts[:-1]])]
        # Times are integer microseconds since T0 = UTC midnight before the first local day.
        first = plan.first_day()
        self.t0 = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(days=1)
        self.dates = [f"{self.t0 + timedelta(days=i):%Y-%m-%d}" for i in range(plan.days + 2)]
        self.local_dates = [(first + timedelta(days=i)).isoformat() for i in range(plan.days)]
        self.end_us = (plan.days + 1) * DAY_US - LOCAL_OFFSET_US  # end of the last local day
        self.owner_cum = _cum(plan.owner_weights)
        self.people = person_pool(plan.seed)

    def stamp(self, us: int) -> str:
        """The bound form of the UTC moment ``t0 + us``."""
        d, rest = divmod(us, DAY_US)
        s, micro = divmod(rest, 1_000_000)
        return f"{self.dates[d]} {_HMS[s]}.{micro:06d}"

    def moment(self, us: int) -> datetime:
        return self.t0 + timedelta(microseconds=us)

    def batch(self, start: int, n: int) -> tuple[list[Row], list[Row]]:
        plan = self.plan
        rng = random.Random(f"{plan.seed}:{start}")
        r = rng.random
        encrypt, blind_index = self.cipher.encrypt, self.cipher.blind_index
        stamp = self.stamp
        people, n_people = self.people, len(self.people)
        trade, n_trade = vocab.TRADE, len(vocab.TRADE)
        prefixes, n_prefixes = vocab.MOBILE_PREFIXES, len(vocab.MOBILE_PREFIXES)
        regions = rng.choices(_REGION_NAMES, cum_weights=_REGION_CUM, k=n)
        letters = rng.choices(_LETTERS, cum_weights=_LETTER_CUM, k=n)
        suffixes = rng.choices(_SUFFIXES, cum_weights=_SUFFIX_CUM, k=n)
        sources = rng.choices(_SOURCES, cum_weights=_SOURCE_CUM, k=n)
        statuses = rng.choices(_STATUSES, cum_weights=_STATUS_CUM, k=n)
        owners = rng.choices(plan.owners, cum_weights=self.owner_cum, k=n)
        day = bisect.bisect_right(self.day_starts, start) - 1
        per = plan.contacts_per_customer
        contact_id = (start - 1) * per
        customers: list[Row] = []
        contacts: list[Row] = []
        for j in range(n):
            cid = start + j
            while day + 1 < plan.days and cid >= self.day_starts[day + 1]:
                day += 1
            # office hours 08:30–19:30 local, ascending with the id inside the day
            frac = (cid - self.day_starts[day] + r()) / self.counts[day]
            created_us = (day + 1) * DAY_US - LOCAL_OFFSET_US + int((30600 + frac * 39600) * 1e6)
            created = stamp(created_us)
            region = regions[j]
            cities = vocab.REGIONS[region][1]
            city = cities[int(r() * len(cities))][0]
            owner = owners[j] if r() >= 0.02 else None  # 2 % wait in the public pool
            website = None
            trade_py = None
            if r() < 0.08:
                name = people[int(r() * n_people)][0]
                ctype, letter, title = "individual", None, None
            else:
                ctype, letter = "enterprise", letters[j]
                parts = [trade[int(r() * n_trade)] for _ in range(3 if r() < 0.12 else 2)]
                trade_py = "".join(p for _, p in parts)
                words = vocab.INDUSTRIES[letter][1]
                name = ((city if r() < 0.85 else "") + "".join(c for c, _ in parts)
                        + words[int(r() * len(words))] + ("" if letter == "S" else suffixes[j]))
                if r() < 0.3:
                    website = f"https://www.{trade_py}.com.cn"
                title = vocab.TITLES[int(r() * len(vocab.TITLES))]
            address = None
            if r() < 0.7:
                address = (f"{city}{vocab.DISTRICTS[int(r() * len(vocab.DISTRICTS))]}"
                           f"{vocab.ROADS[int(r() * len(vocab.ROADS))]}路{1 + int(r() * 998)}号")
            span = self.end_us - created_us
            followup = stamp(created_us + int(r() * span)) if r() < 0.7 else None
            if r() < 0.4:
                updated, version = stamp(created_us + int(r() * span)), 2 + int(r() * 5)
            else:
                updated, version = created, 1
            customers.append((
                created, updated, version, cid, self.codes[cid - 1], name, ctype, letter,
                sources[j], statuses[j], region, owner,
                self.local_dates[day] if r() < 0.8 else None, None, address, website,
                _REMARKS[int(r() * len(_REMARKS))] if r() < 0.1 else None, _JSON_EMPTY, owner,
                followup,
            ))
            for k in range(per):
                contact_id += 1
                pname, sur_py, given_py = people[int(r() * n_people)]
                phone = f"+86{prefixes[int(r() * n_prefixes)]}{int(r() * 100_000_000):08d}"
                x = r()
                if x < 0.35 and trade_py:
                    email = f"{given_py}.{sur_py}@{trade_py}.com.cn"
                elif x < 0.7:
                    domain = vocab.MAIL_DOMAINS[int(r() * len(vocab.MAIL_DOMAINS))]
                    email = f"{given_py}{sur_py}{1 + int(r() * 999)}@{domain}"
                else:
                    email = None
                contacts.append((
                    created, created, 1, contact_id, cid, pname, title, _TRUE if k == 0 else _FALSE,
                    encrypt(phone), blind_index(phone), email, None,
                    f"{sur_py}{given_py}{10 + int(r() * 9990)}" if x > 0.6 else None, None,
                    _JSON_EMPTY,
                ))
        return customers, contacts


def check_rows(gen: Generator, customers: list[Row], contacts: list[Row]) -> None:
    """Assert that sample rows hold exactly what the columns' bind processors would produce
    from the values the services use (aware datetimes, dates, dicts, bools, E.164 phones)."""
    from crm_core.normalize import national_display, normalize_phone

    cust, cont = Customer.__table__, Contact.__table__
    dt = bind_processor(cust, "created_at")
    day = bind_processor(cust, "first_contact_date")
    for us in (0, 1, DAY_US - 1, 123_456_789_012, gen.end_us - 1):
        assert dt(gen.moment(us)) == gen.stamp(us), us
    for row in customers[:50]:
        c = dict(zip(CUSTOMER_COLUMNS, row, strict=True))
        for col in ("created_at", "updated_at", "last_followup_at"):
            if c[col] is not None:
                parsed = datetime.strptime(c[col], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
                assert dt(parsed) == c[col], (col, c[col])
        if c["first_contact_date"] is not None:
            assert day(date.fromisoformat(c["first_contact_date"])) == c["first_contact_date"]
        assert c["custom"] == bind_processor(cust, "custom")({})
    for row in contacts[:50]:
        c = dict(zip(CONTACT_COLUMNS, row, strict=True))
        phone = gen.cipher.decrypt(c["phone_enc"])
        assert phone is not None and normalize_phone(national_display(phone)) == phone, phone
        assert gen.cipher.blind_index(phone) == c["phone_bidx"]
        assert c["is_primary"] in (bind_processor(cont, "is_primary")(True),
                                   bind_processor(cont, "is_primary")(False))
