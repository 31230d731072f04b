"""The data model (docs/architecture.md). Rules live in the domain modules, not here.

Closed lists (statuses, kinds, results) are stored as short ASCII codes; their Chinese labels
live in `labels.py` so the database never depends on display text.
"""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    exists,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .timeutil import utcnow

# --- jurisdictions and catalogue -------------------------------------------------------------


class Jurisdiction(db.Model):
    """City → county/district/banner → station (所/中队). A tree, so statistics roll up."""

    __tablename__ = "jurisdiction"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    level: Mapped[str] = mapped_column(String(10))  # city | county | station
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(200))

    parent: Mapped["Jurisdiction | None"] = relationship(
        remote_side=[id], back_populates="children"
    )
    children: Mapped[list["Jurisdiction"]] = relationship(back_populates="parent")

    __table_args__ = (
        CheckConstraint("level in ('city','county','station')", name="jurisdiction_level"),
    )

    @property
    def county(self) -> "Jurisdiction | None":
        node = self
        while node is not None and node.level != "county":
            node = node.parent
        return node

    @property
    def merged_note(self) -> str | None:
        """Why nothing new may be given to it: None while it is in service."""
        if self.merge is None:
            return None
        return f"{self.name}已并入{self.merge.target.name}，请改选后者。"


class JurisdictionMerge(db.Model):
    """A station merged into another (机构改革): its workshops, accounts and case files went to
    `target` on `merged_on`. The merged station stays for the history that names it (draws,
    reports, audit) but is offered nowhere as a current station (Jurisdiction.merge)."""

    __tablename__ = "jurisdiction_merge"
    source_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"), primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    merged_on: Mapped[date] = mapped_column(Date)
    document: Mapped[str] = mapped_column(String(80))  # the bureau's 文号 deciding the merger
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    target: Mapped[Jurisdiction] = relationship(foreign_keys=[target_id])


Jurisdiction.merge = relationship(
    JurisdictionMerge, foreign_keys=[JurisdictionMerge.source_id], uselist=False, viewonly=True
)
# Where a jurisdiction is still in service (not merged away): every list that offers a current
# station uses it.
IN_SERVICE = ~exists().where(JurisdictionMerge.source_id == Jurisdiction.id)


class ProductCategory(db.Model):
    """National food production licence catalogue (粮食加工品, 豆制品, 糕点 …)."""

    __tablename__ = "product_category"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    high_risk: Mapped[bool] = mapped_column(Boolean, default=False)


workshop_category = Table(
    "workshop_category",
    db.metadata,
    Column("workshop_id", ForeignKey("workshop.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("product_category.id"), primary_key=True),
    # 榜单 by category and the category filter look workshops up by category.
    Index("ix_workshop_category_category", "category_id", "workshop_id"),
)

# --- workshops ---------------------------------------------------------------------------------


class Workshop(db.Model):
    __tablename__ = "workshop"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Short, unguessable, permanent: printed in the QR code (/w/<public_code>).
    public_code: Mapped[str] = mapped_column(String(10), unique=True)
    cert_type: Mapped[str] = mapped_column(String(10))
    cert_no: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    operator_name: Mapped[str] = mapped_column(String(40))
    operator_phone: Mapped[str | None] = mapped_column(String(20))
    operator_id_no: Mapped[str | None] = mapped_column(String(18))
    address: Mapped[str] = mapped_column(String(200))
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    varieties: Mapped[str] = mapped_column(String(200), default="")  # 品种明细, 、-separated
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    status_changed_on: Mapped[date | None] = mapped_column(Date)
    safety_manager: Mapped[str | None] = mapped_column(String(40))
    plate_no: Mapped[str | None] = mapped_column(String(30))  # 公示牌编号
    # Brand facts.
    trademark: Mapped[str | None] = mapped_column(String(60))
    time_honoured: Mapped[bool] = mapped_column(Boolean, default=False)  # 老字号
    geo_indication: Mapped[str | None] = mapped_column(String(60))  # 地理标志
    intangible_heritage: Mapped[str | None] = mapped_column(String(80))  # 非遗
    regional_brand: Mapped[str | None] = mapped_column(String(60))  # 区域公用品牌
    # Info board (公示栏).
    pledge_signed_on: Mapped[date | None] = mapped_column(Date)  # 承诺书 with the 七承诺
    seven_in_place: Mapped[dict] = mapped_column(JSON, default=dict)  # 七到位: key -> bool
    additives: Mapped[str] = mapped_column(String(300), default="")
    # Current published tier, kept by tiers.publish() so lists and search need no history scan.
    tier_code: Mapped[str] = mapped_column(String(20), default="unrated", index=True)
    tier_since: Mapped[date | None] = mapped_column(Date)
    last_inspected_on: Mapped[date | None] = mapped_column(Date)
    # When anything a consumer can see last changed: ETag, Last-Modified, poster freshness.
    public_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    station: Mapped[Jurisdiction] = relationship()
    categories: Mapped[list[ProductCategory]] = relationship(secondary=workshop_category)
    staff: Mapped[list["StaffMember"]] = relationship(
        back_populates="workshop", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(
            "status in ('open','suspended','cancelled','revoked')", name="workshop_status"
        ),
        # Tier counts per county / station (covering). The ranking order's index and the spatial
        # index are dialect-specific: migration scale_0001 and shifangbang/spatial.py.
        Index("ix_workshop_status_station_tier", "status", "station_id", "tier_code"),
    )

    @property
    def high_risk(self) -> bool:
        return any(c.high_risk for c in self.categories)


class StaffMember(db.Model):
    """A person working in the workshop, for the health-certificate board."""

    __tablename__ = "staff_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20), default="生产人员")
    health_cert_expires: Mapped[date | None] = mapped_column(Date)

    workshop: Mapped[Workshop] = relationship(back_populates="staff")


# --- regulators ----------------------------------------------------------------------------------


class User(db.Model):
    """A regulator account. role: admin (bureau, all jurisdictions) | officer (own station) | viewer."""

    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10))
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id"))
    phone: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The 30-second step of the last code accepted: a code works once (no replay within its window).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Set by an administrator: the user must enrol a TOTP second factor before using the back office.
    totp_required: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Per-user session nonce, copied into the session at sign-in: sign-out, a password change or
    # reset and deactivation replace it, so every cookie issued before stops working.
    session_token: Mapped[str | None] = mapped_column(String(64))
    # A TOTP secret shown on the enrolment page but not yet confirmed (kept here, not in the cookie).
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64))

    jurisdiction: Mapped[Jurisdiction | None] = relationship()

    __table_args__ = (CheckConstraint("role in ('admin','officer','viewer')", name="user_role"),)

    # Flask-Login protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class SignInThrottle(db.Model):
    """Failed sign-ins per typed username, and per (username, client): each failure beyond a few
    makes the next attempt wait longer. Keyed by the name typed, so an unknown username is
    throttled exactly like a real one (nothing to enumerate)."""

    __tablename__ = "sign_in_throttle"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ConflictOfInterest(db.Model):
    """Recorded reasons an officer must not inspect a workshop (excluded from 双随机 draws)."""

    __tablename__ = "conflict_of_interest"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(200))
    __table_args__ = (UniqueConstraint("user_id", "workshop_id"),)


# --- inspections, sampling, rectification ---------------------------------------------------------


inspection_inspector = Table(
    "inspection_inspector",
    db.metadata,
    Column("inspection_id", ForeignKey("inspection.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id"), primary_key=True),
)


class Inspection(db.Model):
    """监督检查. result is computed from the items by inspections.overall_result()."""

    __tablename__ = "inspection"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    inspected_on: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(12))  # routine | random | special | flying | complaint
    result: Mapped[str] = mapped_column(String(12))  # pass | basic | fail
    summary: Mapped[str] = mapped_column(Text, default="")
    rectification_required: Mapped[bool] = mapped_column(Boolean, default=False)
    rectification_due: Mapped[date | None] = mapped_column(Date)
    rectification_done_on: Mapped[date | None] = mapped_column(Date)
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("random_draw.id"))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    workshop: Mapped[Workshop] = relationship()
    inspectors: Mapped[list[User]] = relationship(secondary=inspection_inspector)
    items: Mapped[list["InspectionItem"]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan", order_by="InspectionItem.id"
    )

    __table_args__ = (
        CheckConstraint("result in ('pass','basic','fail')", name="inspection_result"),
        CheckConstraint(
            "kind in ('routine','random','special','flying','complaint')", name="inspection_kind"
        ),
    )


class InspectionItem(db.Model):
    __tablename__ = "inspection_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspection.id", ondelete="CASCADE"), index=True
    )
    area: Mapped[str] = mapped_column(String(30))
    code: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(200))
    is_key: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(4))  # pass | fail | na
    note: Mapped[str] = mapped_column(String(300), default="")

    inspection: Mapped[Inspection] = relationship(back_populates="items")
    __table_args__ = (CheckConstraint("outcome in ('pass','fail','na')", name="item_outcome"),)


class Sampling(db.Model):
    """监督抽检. A failure under re-test (复检) counts only once the re-test upholds it."""

    __tablename__ = "sampling"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    sampled_on: Mapped[date] = mapped_column(Date, index=True)
    product: Mapped[str] = mapped_column(String(80))
    batch: Mapped[str] = mapped_column(String(40), default="")
    lab: Mapped[str] = mapped_column(String(80))
    result: Mapped[str] = mapped_column(String(6))  # pass | fail
    failed_item: Mapped[str | None] = mapped_column(String(80))
    measured_value: Mapped[str | None] = mapped_column(String(40))
    limit_value: Mapped[str | None] = mapped_column(String(40))
    notice_no: Mapped[str | None] = mapped_column(String(60))
    # The day the result notice reached the workshop: the 7-working-day re-test window starts here.
    notice_on: Mapped[date | None] = mapped_column(Date)
    # none | requested (pending) | upheld | overturned
    retest_status: Mapped[str] = mapped_column(String(12), default="none")
    retest_requested_on: Mapped[date | None] = mapped_column(Date)
    retest_decided_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    workshop: Mapped[Workshop] = relationship()
    __table_args__ = (
        CheckConstraint("result in ('pass','fail')", name="sampling_result"),
        CheckConstraint(
            "retest_status in ('none','requested','upheld','overturned')", name="sampling_retest"
        ),
    )


class RectificationItem(db.Model):
    """一坊一策, 挂账销号: a problem logged with a due date and struck off when fixed."""

    __tablename__ = "rectification_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    inspection_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection.id", ondelete="SET NULL")
    )
    problem: Mapped[str] = mapped_column(String(300))
    measure: Mapped[str] = mapped_column(String(300), default="")  # 整改措施
    due_on: Mapped[date] = mapped_column(Date, index=True)
    fixed_on: Mapped[date | None] = mapped_column(Date)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    workshop: Mapped[Workshop] = relationship()


# --- tiers ---------------------------------------------------------------------------------------


class TierDecision(db.Model):
    """An effective-dated tier change: proposed → decided → published (or rejected).

    Only published decisions are public; the workshop's current tier is the latest published one.
    """

    __tablename__ = "tier_decision"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshop.id", ondelete="CASCADE"))
    from_tier: Mapped[str] = mapped_column(String(20))
    to_tier: Mapped[str] = mapped_column(String(20))
    # initial | upgrade | downgrade | reconfirm
    direction: Mapped[str] = mapped_column(String(10))
    # See labels.TIER_REASONS: inspection, sampling, complaint, premises_change, hygiene, quality,
    # rectified, upgrade_request, annual_review, initial.
    reason_category: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")  # internal notes
    # What the public reads beside the decision (required: never empty, never just a category).
    public_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(10), default="proposed", index=True)
    effective_on: Mapped[date | None] = mapped_column(Date)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # Evidence links (any may be empty).
    inspection_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection.id", ondelete="SET NULL")
    )
    sampling_id: Mapped[int | None] = mapped_column(ForeignKey("sampling.id", ondelete="SET NULL"))
    complaint_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaint.id", ondelete="SET NULL")
    )
    is_upgrade_request: Mapped[bool] = mapped_column(Boolean, default=False)

    workshop: Mapped[Workshop] = relationship()
    __table_args__ = (
        CheckConstraint(
            "status in ('proposed','decided','published','rejected')", name="tier_status"
        ),
        CheckConstraint(
            "direction in ('initial','upgrade','downgrade','reconfirm')", name="tier_direction"
        ),
        # One open (proposed or decided) decision per workshop.
        Index(
            "uq_tier_decision_one_open",
            "workshop_id",
            unique=True,
            sqlite_where=text("status IN ('proposed', 'decided')"),
            postgresql_where=text("status IN ('proposed', 'decided')"),
        ),
        # One workshop's decisions by state, newest first (its page's history), so the planner
        # never walks ix_tier_decision_published for them.
        Index("ix_tier_decision_workshop", "workshop_id", "status", "published_at"),
        # 定榜公告, newest first: one range read backwards to the page, not a sort of them all;
        # direction and workshop carried along, so filters and counts need no table lookups.
        Index(
            "ix_tier_decision_published",
            "status",
            "published_at",
            "id",
            "direction",
            "workshop_id",
        ),
    )


# --- titles ----------------------------------------------------------------------------------------


class Title(db.Model):
    """A demonstration title, e.g. 山西省名特优示范食品作坊."""

    __tablename__ = "title"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    authority: Mapped[str] = mapped_column(String(80))
    level: Mapped[str] = mapped_column(String(10))  # county | city | province


class TitleGrant(db.Model):
    __tablename__ = "title_grant"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    title_id: Mapped[int] = mapped_column(ForeignKey("title.id"), index=True)
    granted_on: Mapped[date] = mapped_column(Date)
    certificate_no: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="held")  # held | revoked
    last_reviewed_on: Mapped[date | None] = mapped_column(Date)
    revoked_on: Mapped[date | None] = mapped_column(Date)
    revoke_rule: Mapped[str | None] = mapped_column(String(30))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    barred_until: Mapped[date | None] = mapped_column(Date)
    # Facts a regulator flags for the revocation rules (titles.evaluate): free-text descriptions.
    serious_problem: Mapped[str | None] = mapped_column(Text)
    incident: Mapped[str | None] = mapped_column(Text)  # 食品安全事故
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    workshop: Mapped[Workshop] = relationship()
    title: Mapped[Title] = relationship()
    __table_args__ = (
        CheckConstraint("status in ('held','revoked')", name="grant_status"),
        # 通报取消称号: titles revoked in the last year, newest first (public pages).
        Index("ix_title_grant_revoked", "status", "revoked_on"),
    )


class RevocationProposal(db.Model):
    """The rules engine's proposal to revoke a title, with its evidence; a regulator decides."""

    __tablename__ = "revocation_proposal"
    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(
        ForeignKey("title_grant.id", ondelete="CASCADE"), index=True
    )
    rule: Mapped[str] = mapped_column(String(30))
    bar_years: Mapped[int] = mapped_column(Integer, default=0)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(
        String(10), default="pending"
    )  # pending | confirmed | dismissed
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(Text, default="")

    grant: Mapped[TitleGrant] = relationship()
    __table_args__ = (
        # One pending proposal per grant.
        Index(
            "uq_revocation_one_pending",
            "grant_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


# --- 双随机 ----------------------------------------------------------------------------------------


class RandomDraw(db.Model):
    """A 双随机 draw: the seed and the pool filter are recorded so anyone can replay it."""

    __tablename__ = "random_draw"
    id: Mapped[int] = mapped_column(primary_key=True)
    drawn_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"))
    seed: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    pool: Mapped[list] = mapped_column(JSON, default=list)  # workshop ids, in canonical order
    inspectors: Mapped[list] = mapped_column(JSON, default=list)  # user ids, in canonical order
    result: Mapped[list] = mapped_column(JSON, default=list)  # [{workshop_id, inspector_ids}]
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


# --- complaints and reports ---------------------------------------------------------------------


class Complaint(db.Model):
    """One tracked item: a complaint (投诉) or a report (举报).

    A submission holding both becomes two rows sharing `submission_id`. Reporter identity
    (name, phone) is confidential: see complaints.py for who may read it.
    """

    __tablename__ = "complaint"
    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_no: Mapped[str] = mapped_column(String(20), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    submission_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # complaint | report
    channel: Mapped[str] = mapped_column(String(10), default="web")  # web | api | open311 | phone
    workshop_id: Mapped[int | None] = mapped_column(
        ForeignKey("workshop.id", ondelete="SET NULL"), index=True
    )
    # An unregistered "black workshop" (黑作坊): described by the reporter.
    unregistered_name: Mapped[str | None] = mapped_column(String(100))
    unregistered_address: Mapped[str | None] = mapped_column(String(200))
    # The station (or, for unregistered workshops, the county) in charge.
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))  # see labels.COMPLAINT_CATEGORIES
    content: Mapped[str] = mapped_column(Text)
    product: Mapped[str | None] = mapped_column(String(80))
    purchased_on: Mapped[date | None] = mapped_column(Date)
    amount_yuan: Mapped[float | None] = mapped_column(Float)
    demand: Mapped[str | None] = mapped_column(String(300))  # 诉求 (complaints)
    # Confidential identity.
    reporter_name: Mapped[str | None] = mapped_column(String(40))
    reporter_phone: Mapped[str | None] = mapped_column(String(20))
    # Confirmed through WeChat's getPhoneNumber (wechat.verify_phone); kept when the
    # mini-program user deletes their account, as the case's own record.
    reporter_phone_verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    insider: Mapped[bool] = mapped_column(Boolean, default=False)  # 内部知情人
    # Workflow: see complaints.TRANSITIONS.
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)  # the next legal deadline
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    refusal_reason: Mapped[str | None] = mapped_column(String(20))
    termination_reason: Mapped[str | None] = mapped_column(String(20))
    verified: Mapped[bool | None] = mapped_column(Boolean)  # 查实: True, False, or undecided
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Hash of the client address and workshop, for the similar-submission suggestion.
    client_fingerprint: Mapped[str | None] = mapped_column(
        String(64), index=True
    )  # similar_recent()

    workshop: Mapped[Workshop | None] = relationship()
    jurisdiction: Mapped[Jurisdiction] = relationship()
    assigned_to: Mapped[User | None] = relationship()
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="Attachment.id"
    )
    events: Mapped[list["ComplaintEvent"]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="ComplaintEvent.id"
    )

    __table_args__ = (
        CheckConstraint("kind in ('complaint','report')", name="complaint_kind"),
        Index("ix_complaint_jurisdiction_status", "jurisdiction_id", "status"),
    )


class Attachment(db.Model):
    """A photo, re-encoded and stripped of EXIF, kept in the database so app servers share it."""

    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True
    )
    mime: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)

    complaint: Mapped[Complaint] = relationship(back_populates="attachments")


class ComplaintEvent(db.Model):
    """Every transition, note and reply, with who and when. `public_reply` is shown on /track."""

    __tablename__ = "complaint_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")  # internal, officers only
    public_reply: Mapped[str | None] = mapped_column(Text)

    complaint: Mapped[Complaint] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


# --- posters -------------------------------------------------------------------------------------


class Poster(db.Model):
    """A printed QR poster. Its issue number rides in the QR URL so stale posters can be told."""

    __tablename__ = "poster"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    issue_no: Mapped[int] = mapped_column(Integer)
    size: Mapped[str] = mapped_column(String(4))  # A4 | A5
    tier_code: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    __table_args__ = (UniqueConstraint("workshop_id", "issue_no"),)


# --- audit and change logs -----------------------------------------------------------------------


class AuditLog(db.Model):
    """Append-only and hash-chained (see audit.py): editing or deleting a row breaks the chain."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40), index=True)
    entity: Mapped[str] = mapped_column(String(30), index=True)
    entity_id: Mapped[str | None] = mapped_column(String(40), index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    # Which key sealed the row (audit.key_id); None: an unkeyed SHA-256 row from before keys.
    key_id: Mapped[str | None] = mapped_column(String(16))


class PublicRecord(db.Model):
    """One public statement about a workshop (tier published, title granted or revoked, operating
    state changed), in a SHA-256 chain anyone can recompute from the open data (public_history.py).
    Written with the audit row that made the statement; `statement` is the exact hashed text."""

    __tablename__ = "public_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    workshop_id: Mapped[int] = mapped_column(Integer, index=True)  # no FK: survives deletion
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    statement: Mapped[str] = mapped_column(Text)  # canonical JSON
    audit_seq: Mapped[int | None] = mapped_column(Integer)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChangeLog(db.Model):
    """One row per committed change a consumer can see; every server's search index follows it."""

    __tablename__ = "change_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(Integer, index=True)  # no FK: survives deletion
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# --- WeChat mini-program (wechat.py, wechat_outbox.py) ------------------------------------------


class WechatUser(db.Model):
    """A mini-program user, known by the openid WeChat gives for this app. The openid is personal
    data: officers see only that a case is bound (已绑定微信), never the openid."""

    __tablename__ = "wechat_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class WechatSession(db.Model):
    """A bearer token handed to the mini-program; only its SHA-256 is stored."""

    __tablename__ = "wechat_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("wechat_user.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class WechatBinding(db.Model):
    """A complaint or report filed with a token: its user lists it without the query password."""

    __tablename__ = "wechat_binding"
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("wechat_user.id", ondelete="CASCADE"), index=True
    )


class WechatSubscription(db.Model):
    """One accepted one-time subscription: worth exactly one subscribe message."""

    __tablename__ = "wechat_subscription"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("wechat_user.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))  # case | workshop
    complaint_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True
    )
    workshop_id: Mapped[int | None] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    template_id: Mapped[str] = mapped_column(String(64))
    # Workshop subscriptions: the tier, titles and state when subscribed; a change from it fires.
    baseline: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(
        String(10), default="active", index=True
    )  # active|used|dropped
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("kind in ('case','workshop')", name="wechat_subscription_kind"),
    )


class WechatOutbox(db.Model):
    """A subscribe message waiting for (or done with) delivery; workers claim rows one at a time."""

    __tablename__ = "wechat_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("wechat_subscription.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("wechat_user.id", ondelete="CASCADE"), index=True
    )
    template_id: Mapped[str] = mapped_column(String(64))
    page: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSON)
    # pending | sending (claimed until claimed_until) | sent | failed | dropped
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_wechat_outbox_status_next", "status", "next_attempt_at"),)


class WechatToken(db.Model):
    """The app's access token (cgi-bin/stable_token), one row shared by every worker and server."""

    __tablename__ = "wechat_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    access_token: Mapped[str] = mapped_column(String(600), default="")
    expires_at: Mapped[datetime] = mapped_column(DateTime)


from . import programme_models  # noqa: E402,F401  the action programme's tables (DESIGN.md §2b)
