"""Per-deployment settings (tier ladder, certificates, colour codes, bureau) from a TOML file.

Every setting is a typed field here with its one default; code reads `deployment.bureau.x`, never
the raw TOML. A new setting: add the field (with its default and a comment) and document it in
deployment.toml.
"""

import hashlib
import re
import tomllib
from dataclasses import dataclass, field, fields
from datetime import date
from functools import cached_property
from pathlib import Path

DEFAULT_FILE = Path(__file__).with_name("deployment.toml")


@dataclass(frozen=True)
class Tier:
    code: str
    name: str
    colour: str
    rank: int  # higher is better; the unrated state has rank 0
    description: str
    needs_rectification: bool = False


@dataclass(frozen=True)
class Bureau:
    name: str
    short_name: str = ""
    city: str = ""
    province: str = ""
    contact_email: str = ""
    complaint_phones: tuple[str, ...] = ("12315",)
    whistleblower_reward_notice: str = ""
    # Days after which a workshop without an inspection shows 超期未检 on its public page.
    inspection_overdue_days: int = 365
    # At most this many upgrade requests (升榜申请) per workshop in the trailing 12 months.
    upgrade_requests_per_year: int = 2
    # "一年内" in the title-revocation rules: "rolling" (the 12 months before the day evaluated)
    # or "calendar" (one calendar year).
    title_year_window: str = "rolling"
    # A pending title-revocation proposal older than this many working days shows 称号复核中 on
    # the public page and rises on the admin dashboard.
    title_review_working_days: int = 10
    # Served at /<wechat_verify_file> so WeChat can verify the QR-code URL prefix.
    wechat_verify_file: str = ""
    wechat_verify_content: str = ""


@dataclass(frozen=True)
class SevenInPlaceItem:
    """One 七到位 item: `key` is what a workshop's stored {key: bool} refers to (stable), `label`
    the plan's wording shown on the info board."""

    key: str
    label: str


# The 兴县 plan's 七到位 (purchase checks, cleaning, health, process control, records, labelling,
# storage and delivery); keys match the stored statuses, so a deployment may reword but not rekey.
SEVEN_IN_PLACE_DEFAULT = (
    SevenInPlaceItem("purchase", "进货查验到位"),
    SevenInPlaceItem("cleaning", "清洗消毒到位"),
    SevenInPlaceItem("health", "人员健康到位"),
    SevenInPlaceItem("process", "过程控制到位"),
    SevenInPlaceItem("records", "记录台账到位"),
    SevenInPlaceItem("labelling", "标签标识到位"),
    SevenInPlaceItem("storage", "贮存配送到位"),
)


@dataclass(frozen=True)
class Brand:
    """A regional public brand (区域公用品牌, e.g. 萨拉齐凉皮): its public page tells its story and
    lists the workshops whose `regional_brand` carries this exact name."""

    name: str
    region: str = ""
    story: str = ""


@dataclass(frozen=True)
class RectificationTarget:
    by: str  # MM-DD
    share: float
    label: str


@dataclass(frozen=True)
class Programme:
    """The plans' action programme (DESIGN.md §2b): periods, deadlines, targets, checklists."""

    # Days an administrative penalty decision stays public after its date (行政处罚信息公示期).
    penalty_publication_days: int = 1095
    # Days after a title's revocation within which its plaque must be recovered (收回牌匾).
    plaque_recovery_days: int = 30
    # 色标化 must be complete by this day; None switches the public status off.
    colour_code_deadline: date | None = None
    # Inspection checklist items that check 色标化: all pass → done, some → partial, none → not started.
    colour_code_items: tuple[str, ...] = ("H1", "H2")
    # Days from a failed risk-monitoring result to the follow-up official sampling (跟踪抽检).
    follow_up_sampling_days: int = 30
    # 示范创建 target: each title held by at least this share of open workshops.
    title_target_share: float = 0.10
    # Grades of the cultivation pool (培育库), best first.
    cultivation_grades: tuple[str, ...] = ("重点培育", "一般培育")
    # 验收 standard: every item must be met before the plaque is awarded.
    acceptance_standard: tuple[str, ...] = ()
    # Stages of the 小升规 cultivation ledger, in order; the last one means licensed.
    upgrade_stages: tuple[str, ...] = ("意向登记", "帮扶指导", "提交申请", "取得许可")
    # Share of newly registered workshops drawn for the registration spot check (5 %).
    registration_check_share: float = 0.05
    # Day of the month the stations' reports (三清单, 月度统计表) are due.
    report_due_day: int = 24

    def __post_init__(self):
        days = (self.penalty_publication_days, self.plaque_recovery_days)
        if min(days + (self.follow_up_sampling_days,)) < 1:
            raise ValueError("[programme]: day counts must be at least 1")
        if not 0 < self.title_target_share <= 1 or not 0 < self.registration_check_share <= 1:
            raise ValueError("[programme]: shares must be in (0, 1]")
        if not 1 <= self.report_due_day <= 28:
            raise ValueError("[programme]: report_due_day must be 1–28 (every month has it)")
        if not self.cultivation_grades or not self.upgrade_stages:
            raise ValueError("[programme]: cultivation_grades and upgrade_stages may not be empty")


@dataclass(frozen=True)
class WechatTemplate:
    """A subscribe-message template the bureau applied for in the mini-program console (订阅消息),
    and which of our values fills each of its keywords: {keyword: value name}. Value names:
    case — tracking_no, kind, status, updated_at, due_on, reply, workshop_name;
    workshop — workshop_name, tier, titles, state, change, updated_at."""

    template_id: str = ""  # empty: this kind of notice is not offered
    page: str = ""  # the mini-program page the notice opens; {tracking_no} / {code} filled in
    fields: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Wechat:
    # formal | trial | developer: which build of the mini-program a notice opens.
    miniprogram_state: str = "formal"
    case_progress: WechatTemplate = WechatTemplate()
    workshop_change: WechatTemplate = WechatTemplate()


def _wechat(raw: dict) -> Wechat:
    raw = dict(raw)
    templates = {
        k: _build(WechatTemplate, raw.pop(k), f"wechat.{k}")
        for k in ("case_progress", "workshop_change")
        if k in raw
    }
    return Wechat(**_build(Wechat, raw, "wechat").__dict__ | templates)


def _build(cls, raw: dict, section: str):
    """A settings dataclass from its TOML table; an unknown key is a mistake worth stopping for."""
    known = {f.name for f in fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"[{section}]: unknown settings {', '.join(sorted(unknown))}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    built = cls(**values)
    if getattr(built, "title_year_window", "rolling") not in ("rolling", "calendar"):
        raise ValueError(f'[{section}]: title_year_window must be "rolling" or "calendar"')
    return built


@dataclass(frozen=True)
class SearchVocabulary:
    """How shoppers here name foods and places; applied when a query is read (search_index/
    vocab.py), so an edit takes effect on restart without re-indexing."""

    # Groups of words that mean the same food: a query with one finds the others (酿皮 → 凉皮).
    synonyms: tuple[tuple[str, ...], ...] = ()
    # What people call a place → the jurisdiction's name (昆区 → 昆都仑区). Added to the
    # abbreviations generated from the jurisdiction tree (place_abbreviations).
    place_aliases: tuple[tuple[str, str], ...] = ()
    # Generate abbreviations from the jurisdiction tree: 昆都仑区 → 昆都仑, 昆区; 土默特右旗 → 土右,
    # 土右旗; 萨拉齐市场监督管理所 → 萨拉齐.
    place_abbreviations: bool = True
    # Words of a spoken question dropped from a query (附近 also sorts by distance when the
    # shopper's location is known). Added to search_index.vocab.QUESTION_WORDS.
    question_words: tuple[str, ...] = ()


def _vocabulary(raw: dict) -> SearchVocabulary:
    known = {f.name for f in fields(SearchVocabulary)}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"[search]: unknown settings {', '.join(sorted(unknown))}")
    groups = tuple(tuple(g) for g in raw.get("synonyms", ()))
    if any(len(g) < 2 or not all(isinstance(w, str) and w for w in g) for g in groups):
        raise ValueError("[search] synonyms: each group lists two words or more")
    aliases = raw.get("place_aliases", {})
    if not all(isinstance(k, str) and isinstance(v, str) and k and v for k, v in aliases.items()):
        raise ValueError('[search] place_aliases: 别称 = "辖区全称"')
    return SearchVocabulary(
        synonyms=groups,
        place_aliases=tuple(aliases.items()),
        place_abbreviations=bool(raw.get("place_abbreviations", True)),
        question_words=tuple(raw.get("question_words", ())),
    )


@dataclass(frozen=True)
class Deployment:
    bureau: Bureau
    tiers: tuple[Tier, ...]  # best first
    unrated: Tier
    certificate_types: tuple[str, ...]
    certificate_pattern: re.Pattern
    certificate_example: str
    colour_codes: tuple[dict, ...]
    checklist: tuple[dict, ...]  # ({area, items: [{code, text, key}]}, ...)
    rectification_targets: tuple[RectificationTarget, ...] = ()
    seven_in_place: tuple[SevenInPlaceItem, ...] = SEVEN_IN_PLACE_DEFAULT
    brands: tuple[Brand, ...] = ()
    search: SearchVocabulary = SearchVocabulary()
    wechat: Wechat = Wechat()
    programme: Programme = Programme()

    @cached_property
    def fingerprint(self) -> str:
        """Changes with any setting (tier names and colours, labels, checklists …): part of the
        ETag of a page that shows them, so a restart on an edited file never answers 304 with
        the page as it was."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:12]

    def tier(self, code: str | None) -> Tier:
        """The tier for a code; unknown or missing codes are shown as unrated, never as an error."""
        for tier in self.tiers:
            if tier.code == code:
                return tier
        return self.unrated

    @property
    def tier_codes(self) -> list[str]:
        return [t.code for t in self.tiers]

    def checklist_items(self) -> list[dict]:
        """Every checklist item flattened, with its area: [{area, code, text, key}]."""
        return [
            dict(item, area=group["area"]) for group in self.checklist for item in group["items"]
        ]

    def brand(self, name: str | None) -> Brand | None:
        return next((b for b in self.brands if b.name == name), None)

    def valid_certificate_number(self, number: str) -> bool:
        return bool(self.certificate_pattern.fullmatch(number or ""))


def contrast(foreground: str, background: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours (1 to 21)."""

    def luminance(colour: str) -> float:
        h = colour.lstrip("#")
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# Tier badges print the tier's name in white on its colour, at every size: WCAG AA for small text.
TIER_MIN_CONTRAST = 4.5


def load(path: str | Path | None = None) -> Deployment:
    with open(path or DEFAULT_FILE, "rb") as f:
        raw = tomllib.load(f)
    tiers = tuple(sorted((Tier(**t) for t in raw["tiers"]), key=lambda t: -t.rank))
    if len({t.code for t in tiers}) != len(tiers) or any(t.rank <= 0 for t in tiers):
        raise ValueError("tier codes must be unique and ranks positive")
    unrated = Tier(rank=0, **raw["unrated"])
    for t in (*tiers, unrated):
        ratio = contrast("#ffffff", t.colour)
        if ratio < TIER_MIN_CONTRAST:
            raise ValueError(
                f"tier {t.code}: white text on {t.colour} has contrast {ratio:.2f}:1, "
                f"below the {TIER_MIN_CONTRAST}:1 WCAG AA needs; choose a darker shade"
            )
    cert = raw["certificates"]
    return Deployment(
        bureau=_build(Bureau, raw["bureau"], "bureau"),
        tiers=tiers,
        unrated=unrated,
        certificate_types=tuple(cert["types"]),
        certificate_pattern=re.compile(cert["number_pattern"]),
        certificate_example=cert["number_example"],
        colour_codes=tuple(raw.get("colour_codes", ())),
        checklist=tuple(raw.get("checklist", ())),
        rectification_targets=tuple(
            _build(RectificationTarget, t, "rectification_targets")
            for t in raw.get("rectification_targets", ())
        ),
        seven_in_place=_seven_in_place(raw.get("seven_in_place")),
        brands=tuple(_build(Brand, b, "brands") for b in raw.get("brands", ())),
        search=_vocabulary(raw.get("search", {})),
        wechat=_wechat(raw.get("wechat", {})),
        programme=_build(Programme, raw.get("programme", {}), "programme"),
    )


def _seven_in_place(raw: list | None) -> tuple[SevenInPlaceItem, ...]:
    if raw is None:
        return SEVEN_IN_PLACE_DEFAULT
    items = tuple(_build(SevenInPlaceItem, i, "seven_in_place") for i in raw)
    known = {i.key for i in SEVEN_IN_PLACE_DEFAULT}
    if {i.key for i in items} - known or len({i.key for i in items}) != len(items):
        raise ValueError(f"[[seven_in_place]]: keys must be distinct, among {sorted(known)}")
    return items
