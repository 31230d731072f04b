"""Per-deployment settings (tier ladder, certificates, colour codes, bureau) from a TOML file.

Every setting is a typed field here with its one default; code reads `deployment.bureau.x`, never
the raw TOML. A new setting: add the field (with its default and a comment) and document it in
deployment.toml.
"""

import re
import tomllib
from dataclasses import dataclass, field, fields
from datetime import date
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
    # Served at /<wechat_verify_file> so WeChat can verify the QR-code URL prefix.
    wechat_verify_file: str = ""
    wechat_verify_content: str = ""


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
    return cls(**values)


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
    wechat: Wechat = Wechat()
    programme: Programme = Programme()

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

    def valid_certificate_number(self, number: str) -> bool:
        return bool(self.certificate_pattern.fullmatch(number or ""))


def load(path: str | Path | None = None) -> Deployment:
    with open(path or DEFAULT_FILE, "rb") as f:
        raw = tomllib.load(f)
    tiers = tuple(sorted((Tier(**t) for t in raw["tiers"]), key=lambda t: -t.rank))
    if len({t.code for t in tiers}) != len(tiers) or any(t.rank <= 0 for t in tiers):
        raise ValueError("tier codes must be unique and ranks positive")
    unrated = Tier(rank=0, **raw["unrated"])
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
        wechat=_wechat(raw.get("wechat", {})),
        programme=_build(Programme, raw.get("programme", {}), "programme"),
    )
