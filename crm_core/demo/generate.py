"""Deterministic generation of demo customers, contacts and follow-up plans (no database)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from crm_core.demo import pools

T = TypeVar("T")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass
class FollowUpPlan:
    at: datetime  # aware, in the demo's time zone, never in the future
    method: str
    content: str
    feedback: str | None = None
    next_step: str | None = None
    next_step_due: date | None = None
    contact_index: int | None = None  # which of the customer's contacts was reached


@dataclass
class CustomerPlan:
    data: dict[str, Any]  # CustomerCreate input, contacts included
    region: str
    followups: list[FollowUpPlan] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.data["status"])


def id_number(area: str, born: date, seq: int) -> str:
    """A resident ID number with a valid GB 11643 check digit."""
    body = f"{area}{born:%Y%m%d}{seq:03d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


class DemoGenerator:
    def __init__(self, seed: int, now: datetime | None = None, tz: str = "Asia/Shanghai") -> None:
        self.rng = random.Random(seed)
        self.tz = ZoneInfo(tz)
        self.now = (now or datetime.now(self.tz)).astimezone(self.tz)
        self._names: set[str] = set()
        self._mobiles: set[str] = set()
        self._emails: set[str] = set()

    # -- small helpers ---------------------------------------------------------------------
    def pick(self, items: Sequence[T]) -> T:
        return items[self.rng.randrange(len(items))]

    def weighted(self, pairs: Sequence[tuple[T, int]]) -> T:
        return self.rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def password(self) -> str:
        alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        return "demo-" + "".join(self.pick(alphabet) for _ in range(8))

    def mobile(self) -> str:
        while True:
            number = self.pick(pools.MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self._mobiles:
                self._mobiles.add(number)
                return number

    def _unique_email(self, local: str, domain: str) -> str:
        email, n = f"{local}@{domain}", 1
        while email in self._emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self._emails.add(email)
        return email

    def person(self) -> tuple[str, str, str]:
        """(汉字 name, given-name pinyin, surname pinyin)."""
        surname, s_py, _w = self.weighted([(s, s[2]) for s in pools.SURNAMES])
        chars = [self.pick(pools.GIVEN) for _ in range(1 if self.chance(0.35) else 2)]
        return surname + "".join(c for c, _ in chars), "".join(p for _, p in chars), s_py

    # -- customers -------------------------------------------------------------------------
    def customer(self) -> CustomerPlan:
        roll = self.rng.random()
        if roll < 0.08:
            plan = self._individual()
        elif roll < 0.12:
            plan = self._overseas()
        else:
            plan = self._company()
        plan.data["status"] = self.weighted(pools.STATUS_WEIGHTS)
        plan.data["source"] = self.weighted(pools.SOURCE_WEIGHTS)
        return plan

    def _industry(self) -> str:
        return self.weighted([(k, v[0]) for k, v in pools.INDUSTRY_WORDS.items()])

    def _company(self) -> CustomerPlan:
        city, region, _w = self.weighted([(c, c[2]) for c in pools.CITIES])
        industry = self._industry()
        for _attempt in range(50):
            brand, brand_py = self.pick(pools.BRANDS)
            word = self.pick(pools.INDUSTRY_WORDS[industry][1])
            suffix = "股份有限公司" if self.chance(0.15) else (
                "集团有限公司" if self.chance(0.04) else "有限公司")
            place = city if city in pools.MUNICIPALITIES or self.chance(0.5) else city + "市"
            name = (f"{brand}({city}){word}{suffix}" if self.chance(0.12)
                    else f"{place}{brand}{word}{suffix}")
            if name not in self._names:
                break
        self._names.add(name)
        contacts = []
        for i in range(self.rng.choices((1, 2, 3), weights=(40, 40, 20))[0]):
            person, g_py, s_py = self.person()
            email = None
            if self.chance(0.75):
                email = self._unique_email(f"{g_py}.{s_py}", f"{brand_py}.example.com")
            contacts.append({"name": person, "title": self.pick(pools.TITLES), "phone": self.mobile(),
                             "email": email, "is_primary": i == 0})
        data: dict[str, Any] = {
            "name": name, "type": "enterprise", "industry": industry, "region": region,
            "address": f"{city}市{self.pick(pools.ROADS)}{self.rng.randint(1, 999)}号",
            "contacts": contacts,
        }
        if self.chance(0.4):
            data["website"] = f"https://www.{brand_py}.example.com"
        if self.chance(0.3):
            data["remark"] = self.pick(pools.REMARKS).format(n=self.rng.randrange(20, 800, 10))
        return CustomerPlan(data, region)

    def _overseas(self) -> CustomerPlan:
        city, region, _w = self.weighted([(c, c[2]) for c in pools.OVERSEAS])
        industry = self._industry()
        _w, zh_words, en_words = pools.INDUSTRY_WORDS[industry]
        for _attempt in range(50):
            brand, brand_py = self.pick(pools.BRANDS)
            if city == "香港" and self.chance(0.5):
                name = f"香港{brand}{self.pick(zh_words)}有限公司"
            else:
                prefix = self.pick(pools.EN_PREFIXES)
                name = f"{prefix} {self.pick(en_words)} {self.weighted(pools.EN_SUFFIXES)}"
                brand_py = prefix.lower().replace(" ", "")
            if name not in self._names:
                break
        self._names.add(name)
        given, family = self.pick(pools.EN_GIVEN), self.pick(pools.EN_FAMILY)
        local_person, g_py, s_py = self.person()
        contacts = [
            {"name": f"{given} {family}", "title": self.pick(pools.EN_TITLES), "is_primary": True,
             "email": self._unique_email(f"{given}.{family}".lower(), f"{brand_py}.example.com")},
            {"name": local_person, "title": "中国区代表", "phone": self.mobile(), "is_primary": False,
             "email": self._unique_email(f"{g_py}.{s_py}", f"{brand_py}.example.com")},
        ]
        data = {"name": name, "type": "enterprise", "industry": industry, "region": region,
                "address": None if city == "香港" else city, "contacts": contacts,
                "website": f"https://www.{brand_py}.example.com",
                "remark": "Foreign-invested customer; documents in English"}
        return CustomerPlan(data, region)

    def _individual(self) -> CustomerPlan:
        city, region, _w = self.weighted([(c, c[2]) for c in pools.CITIES])
        person, g_py, s_py = self.person()
        born = date(1965, 1, 1) + timedelta(days=self.rng.randrange(33 * 365))
        contact = {"name": person, "title": "本人", "phone": self.mobile(), "is_primary": True,
                   "email": (self._unique_email(f"{s_py}{g_py}{born.year}", self.pick(pools.PERSONAL_MAIL))
                             if self.chance(0.5) else None)}
        data = {"name": person, "type": "individual", "industry": self.pick(("F", "O", "R", None)),
                "region": region, "id_number": id_number(self.pick(pools.ID_AREAS), born,
                                                          self.rng.randrange(1, 999)),
                "address": f"{city}市{self.pick(pools.ROADS)}{self.rng.randint(1, 999)}号",
                "contacts": [contact]}
        return CustomerPlan(data, region)

    # -- follow-ups ------------------------------------------------------------------------
    def _moment(self, days_ago: int) -> datetime:
        day = (self.now - timedelta(days=days_ago)).date()
        at = datetime.combine(day, time(9, 0), self.tz) + timedelta(minutes=self.rng.randrange(570))
        if at > self.now:
            at = self.now - timedelta(minutes=self.rng.randrange(5, 600))
        return at

    def plan_followups(self, plan: CustomerPlan, english: bool) -> None:
        """Follow-ups over the last 90 days (older for churned customers), oldest first, and
        the customer's first-contact date before them."""
        status = plan.status
        n = {"potential": self.rng.randint(0, 3), "won": self.rng.randint(1, 5),
             "churned": self.rng.randint(1, 3)}[status]
        lo = 45 if status == "churned" else 0
        moments = sorted(self._moment(self.rng.randint(lo, 89)) for _ in range(n))
        contacts = plan.data["contacts"]
        for i, at in enumerate(moments):
            method = self.weighted(pools.METHOD_WEIGHTS)
            idx = self.rng.randrange(len(contacts))
            title = contacts[idx].get("title") or ("客户" if not english else "customer")
            if english:
                text = self.pick(pools.EN_CONTENT[method]).format(
                    title=title, topic=self.pick(pools.EN_TOPICS))
                feedback, step = self.pick(pools.EN_FEEDBACK), self.pick(pools.EN_NEXT_STEPS)
            else:
                text = self.pick(pools.CONTENT[method]).format(title=title, topic=self.pick(pools.TOPICS))
                feedback, step = self.pick(pools.FEEDBACK), self.pick(pools.NEXT_STEPS)
            last = i == len(moments) - 1
            fu = FollowUpPlan(at, method, text, contact_index=idx,
                              feedback=feedback if self.chance(0.7) else None)
            if (last and status != "churned") or self.chance(0.2):
                fu.next_step = step
                fu.next_step_due = at.date() + timedelta(days=self.rng.randint(2, 14))
            plan.followups.append(fu)
        first = plan.followups[0].at.date() if plan.followups else (
            self.now - timedelta(days=self.rng.randint(0, 120))).date()
        plan.data["first_contact_date"] = first - timedelta(days=self.rng.randint(0, 300))

    def service_followup(self) -> FollowUpPlan:
        return FollowUpPlan(self._moment(self.rng.randint(0, 60)), self.pick(("phone", "wechat")),
                            self.pick(pools.SERVICE_CONTENT), feedback="满意")
