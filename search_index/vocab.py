"""Reading a query the way shoppers type it: spoken questions, place abbreviations, local names.

Everything here happens at query time, from the deployment file's [search] section and the
jurisdiction tree (places.py), so editing the vocabulary or renaming a station needs no re-index.
"""

import re
from dataclasses import dataclass

from flask import current_app

# Words of a spoken question (附近有卖莜面的作坊吗), longest first when removed.
QUESTION_WORDS = (
    "附近的",
    "附近",
    "周边",
    "周围",
    "离我最近",
    "离我近",
    "最近的",
    "哪里能买到",
    "哪里能买",
    "哪里有卖",
    "哪里有",
    "哪里",
    "哪儿有",
    "哪儿",
    "哪里的",
    "哪家的",
    "哪家",
    "在哪里",
    "在哪儿",
    "在哪",
    "在什么地方",
    "什么地方",
    "怎么走",
    "怎么去",
    "怎么样",
    "有没有",
    "有卖",
    "请问",
    "我想买",
    "想买",
    "我想吃",
    "想吃",
    "推荐一下",
    "推荐",
    "好吃的",
    "好吃",
    "正宗的",
    "正宗",
    "最好的",
    "靠谱的",
    "靠谱",
    "一家",
    "一下",
    "吗",
    "呢",
    "呀",
)
NEAR_WORDS = ("附近", "周边", "周围", "离我", "最近")
# Dropped too once a query reads as a question: they only glue the question together.
GLUE_WORDS = ("的作坊", "的店", "的", "卖", "买", "作坊", "小作坊", "店")


@dataclass
class Reading:
    text: str  # the query without its question words
    near: bool  # asked for something nearby (附近)
    question: bool


def _question_words() -> tuple[str, ...]:
    extra = current_app.extensions["deployment"].search.question_words
    return tuple(sorted(set(QUESTION_WORDS) | set(extra), key=lambda w: (-len(w), w)))


def read(text: str) -> Reading:
    """附近有卖莜面的作坊吗 → 莜面 (near). A query without question words is left as it is."""
    text = text or ""
    near = any(w in text for w in NEAR_WORDS)
    out, question = text, False
    for w in _question_words():
        if w in out:
            out, question = out.replace(w, " "), True
    if question:
        # 有…卖, 做…的: 赛汗有胡油卖吗, 有没有石宝做糖饼的作坊
        rest = re.sub(r"有(?=[^有]+卖)|做(?=[^做]+的)", " ", out)
        for w in GLUE_WORDS:
            rest = rest.replace(w, " ")
        if rest.strip():
            out = rest
    if not out.strip():  # nothing but question words: keep what was typed
        return Reading(text, near, False)
    return Reading(re.sub(r"\s+", " ", out).strip(), near, question)


def variants(run: str, limit: int = 6) -> list[str]:
    """A Chinese run and its spellings with the bureau's synonyms swapped in: 刘记酿皮 →
    刘记凉皮, 刘记面皮."""
    out = [run]
    for group in current_app.extensions["deployment"].search.synonyms:
        for word in sorted(group, key=len, reverse=True):
            if word in run:
                out += [run.replace(word, other) for other in group if other != word]
                break
    return list(dict.fromkeys(out))[:limit]


def abbreviations(name: str) -> list[str]:
    """How people shorten a jurisdiction's name: 昆都仑区 → 昆都仑, 昆区; 土默特右旗 → 土默特右, 土右,
    土右旗; 白云鄂博矿区 → 白云鄂博; 萨拉齐市场监督管理所 → 萨拉齐; 美岱召镇 → 美岱召."""
    # Development zones go by their short form: 稀土高新技术产业开发区 → 稀土高新区, 高新区;
    # 金山经济技术开发区 → 金山经开区, 金山开发区, 经开区.
    for long, shorts in (
        ("高新技术产业开发区", ("高新区",)),
        ("经济技术开发区", ("经开区", "开发区")),
    ):
        if name.endswith(long):
            base = name[: -len(long)]
            return [base + short for short in shorts if base] + [shorts[0]]
    out = []
    for suffix in (
        "市场监督管理所",
        "市场监管所",
        "矿区",
        "街道",
        "苏木",
        "区",
        "县",
        "旗",
        "镇",
        "乡",
        "市",
    ):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            base = name[: -len(suffix)]
            out.append(base)
            if suffix == "区" and len(base) >= 3:
                out.append(base[0] + "区")
            m = re.fullmatch(r"(.)..?(左|右|前|中|后)", base) if suffix == "旗" else None
            if m:
                out += [m.group(1) + m.group(2), m.group(1) + m.group(2) + "旗"]
            break
    return [a for a in out if a != name]


def aliases(names: list[str]) -> dict[str, set[str]]:
    """Alias → the jurisdiction names it stands for: generated abbreviations and the deployment's
    place_aliases. A jurisdiction's own name is never taken over by an alias."""
    vocab = current_app.extensions["deployment"].search
    own = set(names)
    out: dict[str, set[str]] = {}
    if vocab.place_abbreviations:
        for name in names:
            for a in abbreviations(name):
                if a not in own:
                    out.setdefault(a, set()).add(name)
    for alias, name in vocab.place_aliases:
        if alias not in own:
            out.setdefault(alias, set()).add(name)
    return out
