"""Who receives a notification: the contact list, its fallbacks, and address hygiene.

The contact list is an obligation of its own: each city bureau reports, for
itself and its pilot counties, the leader in charge (主管领导) and the head of
the responsible division (责任处室负责同志) with their e-mail addresses
(冀工信产业〔2016〕93号 七, due Mar 31). Every later reminder reads it:

- To: the region's 责任处室负责同志, else its 主管领导 — from the contacts of the
  same programme and cycle, else the most recent list of any programme in the
  province;
- a county without a valid contact falls back to its city bureau's contact and
  the gap is returned, so the province can be told (``gap_report``); a message
  that must reach someone (a decision notice, ``last_resort``) goes to the
  programme's responsible division when the city has none either;
- Cc when a reminder escalates (:mod:`review_calendar.notify.stages`):
  the city bureau's 主管领导, then also the programme's responsible division.

Names and addresses come from submitted spreadsheets. An address is used only
if it is a plain ASCII ``local@domain`` (no CR/LF, commas, angle brackets,
quotes or spaces); display names lose control characters and angle brackets.
Nothing a county types can add a header to an e-mail.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from email.headerregistry import Address
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from review_calendar.domain.privacy import mask_email
from review_calendar.intake.identifiers import email_address
from review_calendar.intake.normalize import ValueProblem

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import Programme
    from review_calendar.notify.stages import Escalation
    from review_calendar.store.queries import Submitter

ROLE_DIVISION = "责任处室负责同志"
ROLE_LEADER = "主管领导"
ROLE_OFFICE = "省级主管处室"
#: Who is addressed first: the division head does the work, the leader answers for it.
TO_ROLES = (ROLE_DIVISION, ROLE_LEADER)
#: Who is copied at the city bureau when a reminder escalates.
CITY_CC_ROLES = (ROLE_LEADER, ROLE_DIVISION)

_MAX_NAME = 64


class InvalidAddress(ValueError):
    """An e-mail address is not a plain addr-spec (it is never used in a header)."""


def valid_address(value: Any) -> str | None:
    """The address if it is a plain, header-safe ``local@domain``, else None.

    Surrounding spaces (common in spreadsheet cells) are removed; the rest is
    the one address rule of intake and the gate
    (:func:`~review_calendar.intake.identifiers.email_address`): anything
    with CR or LF, a comma, angle brackets, quotes, inner spaces, a display
    name, a non-ASCII local part, a dot at either end of the local part, over-long
    parts or no dotted domain is refused; an internationalised domain is
    returned as punycode.

    Args:
        value: The cell value as read (any type).

    Returns:
        The normalised address, or None.
    """
    if not isinstance(value, str) or "\r" in value or "\n" in value:
        return None
    return _valid_text(value.strip(" \t\u3000"))


@lru_cache(maxsize=16384)
def _valid_text(text: str) -> str | None:
    """:func:`valid_address` of a trimmed string (a delivery batch reads the same Cc and Reply-To again and again)."""
    if not text:
        return None
    try:
        return email_address(text)
    except ValueProblem:
        return None


def clean_display_name(value: Any) -> str:
    """A display name that cannot break a header: one line, no control characters.

    Control and format characters (CR, LF, NUL, zero-width...) become spaces,
    angle brackets and double quotes are dropped, whitespace is collapsed and
    the name is cut to 64 characters. The e-mail policy then quotes or RFC
    2047-encodes what is left.

    Args:
        value: The name as read (any type; None gives "").

    Returns:
        The cleaned name.
    """
    if value is None:
        return ""
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in str(value))
    text = re.sub(r"[<>\"]", "", text)
    return " ".join(text.split())[:_MAX_NAME]


@dataclass(frozen=True, slots=True)
class Mailbox:
    """A validated recipient; build it with :func:`mailbox`.

    Attributes:
        name: Display name (cleaned).
        addr: Plain addr-spec (validated).
        role: 责任处室负责同志, 主管领导 or 省级主管处室 (for dry runs and reports).
        region_code: The region the contact answers for.
    """

    name: str
    addr: str
    role: str = ""
    region_code: str = ""

    def header(self) -> Address:
        """The header value; the e-mail policy encodes a Chinese name (RFC 2047)."""
        return Address(display_name=self.name, addr_spec=self.addr)

    def masked(self) -> str:
        """Role and masked address, safe for logs and dry-run output."""
        return f"{self.role or '收件人'} {mask_email(self.addr)}"

    def to_json(self) -> dict[str, str]:
        """The form stored in the outbox (``to_addrs`` / ``cc_addrs``)."""
        return {"name": self.name, "addr": self.addr, "role": self.role, "region_code": self.region_code}

    @classmethod
    def from_json(cls, value: Any) -> Mailbox:
        """Read back a stored recipient (a dict, or a bare address string).

        Raises:
            InvalidAddress: The stored address is not a plain addr-spec.
        """
        if isinstance(value, str):
            value = {"addr": value}
        box = mailbox(
            value.get("name", ""), value.get("addr"), value.get("role", ""), value.get("region_code", "")
        )
        if box is None:
            raise InvalidAddress("stored recipient address is not a plain addr-spec")
        return box


def mailbox(name: Any, address: Any, role: str = "", region_code: str = "") -> Mailbox | None:
    """A :class:`Mailbox` from raw values, or None when the address is not valid.

    Args:
        name: Display name as read (cleaned here).
        address: E-mail address as read (validated here).
        role: The contact's role.
        region_code: The region the contact answers for.

    Returns:
        The mailbox, or None.
    """
    addr = valid_address(address)
    if addr is None:
        return None
    return Mailbox(clean_display_name(name), addr, role, region_code)


def office_mailbox(programme: Programme) -> Mailbox:
    """The programme's responsible division (receives escalations and gap reports)."""
    box = mailbox(programme.office.division, programme.office.email, ROLE_OFFICE, programme.region_code)
    if box is None:  # the programme schema already checks it; a clear error if that ever changes
        raise InvalidAddress(f"programme {programme.id}: office.email is not a plain addr-spec")
    return box


@dataclass(frozen=True, slots=True)
class ContactEntry:
    """One row of the contact list, as the book needs it."""

    programme_id: str
    cycle_year: int
    region_code: str
    role: str
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class RegionEntry:
    """A region's name and parent (a county's parent is its city)."""

    code: str
    name: str
    level: str
    parent_code: str | None = None


@dataclass(frozen=True, slots=True)
class ContactGap:
    """A region the province must chase for its contact list.

    Attributes:
        region_code: The region without a usable contact.
        region_name: Its name.
        reason: Why (in Chinese): no contact reported, or the addresses are invalid.
        action: What was done instead (in Chinese): sent to the city, or not sent.
    """

    region_code: str
    region_name: str
    reason: str
    action: str


@dataclass(frozen=True, slots=True)
class Recipients:
    """Who receives one notification.

    Attributes:
        to: Main recipients (empty: nobody can be reached).
        cc: Copies for an escalation (never repeats a To address).
        via_city: The region had no valid contact; To is its city bureau's contact.
        gaps: Contact gaps met while resolving (for the province's gap report).
        via_office: Neither the region nor its city had a valid contact; To is the
            programme's responsible division (only with ``last_resort``).
    """

    to: tuple[Mailbox, ...]
    cc: tuple[Mailbox, ...] = ()
    via_city: bool = False
    gaps: tuple[ContactGap, ...] = ()
    via_office: bool = False


@dataclass
class ContactBook:
    """The contact lists of a province, resolved in memory for a whole planning run.

    Attributes:
        programme: The programme the notifications are for.
        cycle_year: The cycle whose contact list is preferred.
        contacts: Every contact row of the province (any programme, any year).
        regions: Regions of the province by code.
    """

    programme: Programme
    cycle_year: int
    contacts: Sequence[ContactEntry]
    regions: Mapping[str, RegionEntry]
    _by_region: dict[str, list[ContactEntry]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_region = defaultdict(list)
        for c in self.contacts:
            self._by_region[c.region_code].append(c)

    @classmethod
    def load(cls, session: Session, programme: Programme, cycle_year: int) -> ContactBook:
        """Read the province's contacts and regions from the review database.

        Args:
            session: Open session.
            programme: The programme (its ``region_code`` gives the province).
            cycle_year: The cycle whose contact list is preferred.

        Returns:
            The book.
        """
        from sqlalchemy import select

        from review_calendar.store.tables.registry import Contact, Region

        province = programme.region_prefix
        contacts = [
            ContactEntry(c.programme_id, c.cycle_year, c.region_code, c.role, c.name, c.email)
            for c in session.scalars(select(Contact).where(Contact.region_code.like(f"{province}%")))
        ]
        regions = {
            r.code: RegionEntry(r.code, r.name, r.level, r.parent_code)
            for r in session.scalars(select(Region).where(Region.code.like(f"{province}%")))
        }
        return cls(programme, cycle_year, contacts, regions)

    def region_name(self, code: str) -> str:
        """The region's name (its code when unknown)."""
        region = self.regions.get(code)
        return region.name if region else code

    def city_of(self, code: str) -> str:
        """The city bureau a region reports through (a city is its own)."""
        region = self.regions.get(code)
        if region is None or region.level != "county" or not region.parent_code:
            return code
        return region.parent_code

    def submitter(self, region_code: str) -> Submitter:
        """The region as a :class:`~review_calendar.store.queries.Submitter` (for rejections and decisions)."""
        from review_calendar.store.queries import Submitter

        return Submitter(region_code, self.region_name(region_code), self.city_of(region_code))

    def best(self, region_code: str, roles: Sequence[str] = TO_ROLES) -> Mailbox | None:
        """The best valid contact of a region among ``roles``.

        Preference: this programme's list of this cycle (roles in the given
        order); then the most recent list, this programme's before another
        programme's of the same year, roles in order.

        Args:
            region_code: The region.
            roles: Acceptable roles, preferred first.

        Returns:
            A mailbox, or None when no contact of those roles has a valid address.
        """
        own = (self.programme.id, self.cycle_year)

        def rank(c: ContactEntry) -> tuple[int, int, int, int]:
            return (
                0 if (c.programme_id, c.cycle_year) == own else 1,
                -c.cycle_year,
                0 if c.programme_id == self.programme.id else 1,
                roles.index(c.role),
            )

        candidates = sorted((c for c in self._by_region.get(region_code, ()) if c.role in roles), key=rank)
        for c in candidates:
            box = mailbox(c.name, c.email, c.role, c.region_code)
            if box is not None:
                return box
        return None

    def gap_reason(self, region_code: str) -> str:
        """Why a region has no usable contact (in Chinese, for the gap report)."""
        if self._by_region.get(region_code):
            return "联系人名单中的电子邮箱缺失或格式无效"
        return "未报送主管领导及责任处室负责同志名单"

    def resolve(
        self, submitter: Submitter, escalation: Escalation = "none", *, last_resort: bool = False
    ) -> Recipients:
        """To, Cc and contact gaps for a notification to ``submitter``.

        The one fallback chain: the region's contact, else its city bureau's, else
        (``last_resort``) the programme's responsible division; every step past the
        region is a gap.

        Args:
            submitter: The region (county or city) the notification is about.
            escalation: ``none``, ``city`` (copy the city bureau's leader) or
                ``province`` (also copy the programme's responsible division).
            last_resort: The message must reach someone (a decision): when neither
                the region nor its city has a valid contact, send it to the
                programme's responsible division (``via_office``).

        Returns:
            The recipients; ``to`` is empty when neither the region nor its city
            has a valid contact and ``last_resort`` is off (the gap says so).
        """
        region, city = submitter.region_code, submitter.city_code or self.city_of(submitter.region_code)
        gaps: list[ContactGap] = []
        own = self.best(region)
        to: list[Mailbox] = []
        via_city = via_office = False
        if own is not None:
            to.append(own)
        else:
            fallback = self.best(city) if city != region else None
            if fallback is not None:
                to.append(fallback)
                via_city = True
                action = f"已改发{self.region_name(city)}联系人"
            elif last_resort:
                to.append(office_mailbox(self.programme))
                via_office = True
                action = f"已改发{self.programme.office.division}"
            else:
                action = "无可用联系人，未能发送"
            gaps.append(
                ContactGap(
                    region, submitter.region_name or self.region_name(region), self.gap_reason(region), action
                )
            )
            if via_office and city != region:
                gaps.append(ContactGap(city, self.region_name(city), self.gap_reason(city), action))
        cc: list[Mailbox] = []
        if escalation in ("city", "province"):
            leader = self.best(city, CITY_CC_ROLES)
            if leader is not None:
                cc.append(leader)
            elif city != region and not via_office:
                gaps.append(
                    ContactGap(
                        city, self.region_name(city), self.gap_reason(city), "催报升级未能抄送市局主管领导"
                    )
                )
        if escalation == "province":
            cc.append(office_mailbox(self.programme))
        seen = {m.addr for m in to}
        unique_cc = []
        for m in cc:
            if m.addr not in seen:
                seen.add(m.addr)
                unique_cc.append(m)
        return Recipients(tuple(to), tuple(unique_cc), via_city, tuple(gaps), via_office)
