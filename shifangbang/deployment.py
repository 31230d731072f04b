"""Per-deployment settings (tier ladder, certificates, colour codes, bureau) from a TOML file."""
import re
import tomllib
from dataclasses import dataclass, field
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
class Deployment:
    bureau: dict
    tiers: tuple[Tier, ...]  # best first
    unrated: Tier
    certificate_types: tuple[str, ...]
    certificate_pattern: re.Pattern
    certificate_example: str
    colour_codes: tuple[dict, ...]
    checklist: tuple[dict, ...]  # ({area, items: [{code, text, key}]}, ...)
    raw: dict = field(repr=False, default_factory=dict)

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
        return [dict(item, area=group["area"]) for group in self.checklist for item in group["items"]]

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
        bureau=raw["bureau"],
        tiers=tiers,
        unrated=unrated,
        certificate_types=tuple(cert["types"]),
        certificate_pattern=re.compile(cert["number_pattern"]),
        certificate_example=cert["number_example"],
        colour_codes=tuple(raw.get("colour_codes", ())),
        checklist=tuple(raw.get("checklist", ())),
        raw=raw,
    )
