"""Text analysis for the index: jieba words, character pairs, pinyin.

This module path is stored inside every index (Whoosh pickles the schema and its tokenizers),
so the class names and this file's location must stay put; nothing heavy is kept on the
tokenizer objects themselves.

Deterministic: a record's terms depend on the record alone, never on what the process indexed
before. jieba runs on a private tokenizer over a fixed dictionary (its common words plus
DOMAIN_WORDS), never taught names at index time; readings come from a fixed table
(pinyin_data.py). Anything here that changes terms must bump schema.INDEX_FORMAT.

Memory matters (each gunicorn worker holds this): jieba loads a dictionary filtered to common
words, and pypinyin is never imported in a worker — a child process writes the reading table
(each character's common reading, and the phrases that read a character otherwise: 重庆 chong,
长寿 chang) once per machine. Heteronyms are read from context (the longest phrase of the table
at each position); only characters with several common readings in names (NAME_ALTERNATIVES)
get a second reading, so 家 is never "gu" and 汗 never "gan".
"""

import itertools
import os
import re
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

from whoosh.analysis import Token, Tokenizer

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# A query or text split into runs: Chinese characters, ASCII letters, digits.
RUNS = re.compile(
    r"(?P<cjk>[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)|(?P<alpha>[A-Za-z]+)|(?P<digit>[0-9]+)"
)

# Words jieba should keep whole in this domain, whatever its general dictionary says.
DOMAIN_WORDS = (
    "作坊",
    "小作坊",
    "食品作坊",
    "豆腐坊",
    "油坊",
    "醋坊",
    "粉坊",
    "糕点坊",
    "凉糕",
    "凉皮",
    "莜面",
    "豆腐",
    "豆腐干",
    "豆腐皮",
    "腐竹",
    "粉条",
    "粉皮",
    "凉粉",
    "月饼",
    "麻花",
    "油条",
    "馒头",
    "花卷",
    "挂面",
    "胡麻油",
    "香油",
    "老陈醋",
    "熏醋",
    "酱油",
    "腊肉",
    "熏肉",
    "手把肉",
    "风干肉",
    "牛肉干",
    "奶豆腐",
    "奶皮子",
    "炒米",
    "黄米",
    "糖麻叶",
    "蒸饺",
    "烧麦",
    "肉制品",
    "豆制品",
    "调味品",
    "糕点",
    "粮食加工品",
    "淀粉制品",
    "食用植物油",
    "老字号",
    "地理标志",
    "非遗",
    "老东河",
    "固阳",
    "萨拉齐",
    # 包头 foods by their local names (the bureau's synonyms map them at query time)
    "酿皮",
    "稍麦",
    "捎卖",
    "烧卖",
    "胡油",
    "豆干",
    "莜面鱼鱼",
    "莜面窝窝",
    "莜面饸饹",
    "块垒",
    "焙子",
    "油香",
    "油糕",
    "炸糕",
    "黄米面",
    "酸粥",
    "奶茶",
    "奶酪",
    "羊杂",
    "手扒肉",
    "麻叶",
    "月饼",
    "锅盔",
    "烙饼",
    "发糕",
    "豆腐脑",
    # places of the default deployment whose names jieba would cut into characters
    "昆都仑",
    "土默特",
    "九原",
    "石拐",
    "白云鄂博",
    "达茂",
    "土右",
    "美岱召",
)
JIEBA_MIN_FREQ = 50

_jieba = None
_jieba_lock = threading.Lock()


def _small_dictionary() -> Path:
    """jieba's dictionary without its rare words (a quarter of the memory); cached on disk."""
    jieba = _import_jieba()

    path = Path(tempfile.gettempdir()) / f"shifangbang-jieba-{JIEBA_MIN_FREQ}-{os.getuid()}.txt"
    if not path.exists():
        source = Path(jieba.__file__).with_name("dict.txt")
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(source, encoding="utf-8") as src, open(tmp, "w", encoding="utf-8") as out:
            out.writelines(line for line in src if int(line.split()[1]) >= JIEBA_MIN_FREQ)
        os.replace(tmp, path)
    return path


def _import_jieba():
    """jieba, without compiling its HMM tables: jieba.finalseg imports a 1.3 MB dict literal
    (prob_emit.py), and where no bytecode is cached (PYTHONDONTWRITEBYTECODE, a read-only venv)
    every worker compiles it — a 60 MB peak the allocator keeps. jieba's own non-CPython path
    reads the same tables from its pickles (prob_*.p); we take that path. (We never use the HMM.)"""
    import importlib.util
    import pickle
    import sys
    import types

    if "jieba" not in sys.modules:
        folder = Path(importlib.util.find_spec("jieba").origin).parent / "finalseg"
        for name in ("prob_start", "prob_trans", "prob_emit"):
            module = types.ModuleType(f"jieba.finalseg.{name}")
            with open(folder / f"{name}.p", "rb") as f:
                module.P = pickle.load(f)
            sys.modules.setdefault(module.__name__, module)
    import jieba

    return jieba


def jieba_tokenizer():
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import logging

                jieba = _import_jieba()

                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer(str(_small_dictionary()))
                tk.initialize()
                for word in DOMAIN_WORDS:
                    tk.add_word(word, freq=200000)
                _jieba = tk
    return _jieba


def words(text: str) -> list[tuple[str, int, int]]:
    """jieba words (no HMM guessing, so the same text always splits the same way), without
    whitespace and punctuation: [(word, start, end)]."""
    out = []
    for word, start, end in jieba_tokenizer().tokenize(text, HMM=False):
        if RUNS.search(word):
            out.append((word.lower(), start, end))
    return out


def subwords(word: str) -> list[str]:
    """The known words inside a long word (老东河凉糕 → 老东, 东河, 凉糕, 老东河), as jieba's search
    mode finds them, so a name reads the same whatever longer words the dictionary has learnt."""
    freq = jieba_tokenizer().FREQ
    return [
        word[i : i + n]
        for n in (2, 3)
        if len(word) > n
        for i in range(len(word) - n + 1)
        if freq.get(word[i : i + n])
    ]


def bigrams(text: str, query: bool = False, triples: bool = False) -> list[tuple[str, int, int]]:
    """Chinese runs as overlapping character pairs; letters and digits as whole lower-case words.

    Indexing also emits each run's last character alone, so every character starts some token
    and a one-character query can match by prefix. A query needs only the pairs (as a phrase).
    `triples`: each run's overlapping three characters too (products: 风干羊肉、牛肉干 holds the
    pairs of 羊肉干 but not the three together, so a query of three characters or more asks for
    them within one item).
    """
    out = []
    for m in RUNS.finditer(text):
        run, start = m.group(), m.start()
        if m.lastgroup != "cjk":
            out.append((run.lower(), start, m.end()))
            continue
        for i in range(len(run) - 1):
            out.append((run[i : i + 2], start + i, start + i + 2))
        if triples:
            for i in range(len(run) - 2):
                out.append((run[i : i + 3], start + i, start + i + 3))
        if not query or len(run) == 1:
            out.append((run[-1], m.end() - 1, m.end()))
    return out


def triples(run: str) -> list[str]:
    """A Chinese run's overlapping three characters, as `bigrams(…, triples=True)` indexes them."""
    return [run[i : i + 3] for i in range(len(run) - 2)]


class SpaceTokenizer(Tokenizer):
    """Terms separated by spaces, as they are (pre-analysed values: pinyin, keys, facets)."""

    def __eq__(self, other):
        return other is not None and self.__class__ is other.__class__

    def texts(self, value: str) -> list[str]:
        return value.split()

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, text in enumerate(value.split(), start_pos):
            t.text = t.original = text
            t.boost = 1.0
            t.stopped = False
            if positions:
                t.pos = pos
            yield t


class BigramTokenizer(Tokenizer):
    triples = False  # ItemTokenizer: three characters too

    def __eq__(self, other):
        return other is not None and self.__class__ is other.__class__

    def texts(self, value: str) -> list[str]:
        return [text for text, _, _ in bigrams(value, triples=self.triples)]

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, (text, start, end) in enumerate(
            bigrams(value, query=(mode == "query"), triples=self.triples), start_pos
        ):
            t.text = text
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = text
            if positions:
                t.pos = pos
            if chars:
                t.startchar, t.endchar = start_char + start, start_char + end
            yield t


class ItemTokenizer(BigramTokenizer):
    """Pairs and three characters of each item (products: items are separated by 、)."""

    triples = True


# --- pinyin -------------------------------------------------------------------------------------

MAX_VARIANTS = 4  # readings per word
READINGS_VERSION = 1  # bump when pinyin_data.py changes what it writes
# Characters read more than one way in shop names (the first is the default where no phrase
# decides). Every other character has one reading: its phrase reading, else its common one.
NAME_ALTERNATIVES = {
    "重": ("chong", "zhong"),
    "长": ("chang", "zhang"),
    "乐": ("le", "yue"),
    "行": ("xing", "hang"),
    "曾": ("zeng", "ceng"),
    "单": ("shan", "dan"),
    "朝": ("chao", "zhao"),
    "都": ("du", "dou"),
    "藏": ("zang", "cang"),
    "厦": ("xia", "sha"),
    "翟": ("zhai", "di"),
    "解": ("xie", "jie"),
    "查": ("zha", "cha"),
    "盛": ("sheng", "cheng"),
    "覃": ("qin", "tan"),
    "缪": ("miao", "mou"),
    "勒": ("le", "lei"),
    # surnames and place names read otherwise than pypinyin's first reading (卜尔汉图 bu, 朴 piao)
    "卜": ("bu", "bo"),
    "朴": ("piao", "pu"),
    "仇": ("qiu", "chou"),
}

_table: dict | None = None
_table_lock = threading.Lock()


def _versions() -> str:
    from importlib.metadata import version

    return f"pypinyin-{version('pypinyin')}-{READINGS_VERSION}"


def reading_table() -> dict:
    """{"chars": {char: reading}, "phrases": {phrase: "r1 r2"}}, written once per machine by a
    child process (pinyin_data.py) and cached in the temporary directory."""
    global _table
    if _table is None:
        with _table_lock:
            if _table is None:
                import json
                import subprocess
                import sys

                path = Path(tempfile.gettempdir()) / (
                    f"shifangbang-readings-{_versions()}-{os.getuid()}.json"
                )
                if not path.exists():
                    script = Path(__file__).with_name("pinyin_data.py")
                    subprocess.run([sys.executable, str(script), str(path)], check=True)
                with open(path, encoding="utf-8") as f:
                    raw = json.load(f)
                _table = {
                    "chars": {c: sys.intern(r) for c, r in raw["chars"].items()},
                    "phrases": {p: tuple(r.split()) for p, r in raw["phrases"].items()},
                }
    return _table


@lru_cache(maxsize=20000)
def char_readings(ch: str) -> tuple[str, ...]:
    """Readings of one character out of context, default first (ü as v)."""
    if not CJK.fullmatch(ch):
        return (ch.lower(),)
    if ch in NAME_ALTERNATIVES:
        return NAME_ALTERNATIVES[ch]
    reading = reading_table()["chars"].get(ch)
    return (reading,) if reading else (ch,)


@lru_cache(maxsize=50000)
def text_readings(text: str) -> tuple[tuple[str, ...], ...]:
    """Readings of each character of `text` in context: the longest phrase of the table at each
    position decides (重庆 chong, 银行 hang); NAME_ALTERNATIVES add their other reading."""
    phrases = reading_table()["phrases"]
    out: list[tuple[str, ...]] = []
    i = 0
    while i < len(text):
        for n in (4, 3, 2):
            read = phrases.get(text[i : i + n]) if i + n <= len(text) else None
            if read:
                for ch, r in zip(text[i : i + n], read):
                    alts = NAME_ALTERNATIVES.get(ch, ())
                    out.append((r,) + tuple(a for a in alts if a != r))
                i += n
                break
        else:
            out.append(char_readings(text[i]))
            i += 1
    return tuple(out)


@lru_cache(maxsize=50000)
def word_pinyin(word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(full-pinyin variants, initials variants) of a word, most likely reading first."""
    per_char = [r if CJK.fullmatch(c) else (c.lower(),) for c, r in zip(word, text_readings(word))]
    variants = list(itertools.islice(itertools.product(*per_char), MAX_VARIANTS))
    full = ["".join(p) for p in variants]
    ini = ["".join(s[0] for s in p) for p in variants]
    return tuple(dict.fromkeys(full)), tuple(dict.fromkeys(ini))


def name_pinyin(text: str) -> dict:
    """Everything the index keeps about a name's pinyin.

    word and ini: readings and initials of its words and of the known words inside them
    (laodonghe, lianggao; ldh, lg); whole and whole_ini: the whole name run together
    (laodonghelianggaozuofang; ldhlgzf), each reading of its heteronyms; pairs: the readings
    of each two neighbouring characters (lao'dong dong'he he'liang …: typed pinyin matches
    wherever it starts and however jieba cut the name, as character pairs do for Chinese);
    map: word → readings, so a searcher can highlight pinyin matches without the reading table.
    """
    word_tokens, ini_tokens, mapping = [], [], []
    parts = words(text)
    readings = text_readings("".join(w for w, _, _ in parts))
    at = 0
    for w, _, _ in parts:
        per_char = readings[at : at + len(w)]
        at += len(w)
        full, ini = word_pinyin(w)
        mapping.append([w, list(full), list(ini), ["|".join(r) for r in per_char]])
        for part in [w] + subwords(w):
            full, ini = word_pinyin(part)
            word_tokens += full
            ini_tokens += ini
    whole = list(itertools.islice(itertools.product(*readings), MAX_VARIANTS))
    chars = "".join(w for w, _, _ in parts)
    pairs = [
        f"{a}'{b}"
        for i in range(len(chars) - 1)
        if CJK.fullmatch(chars[i : i + 2])
        for a in readings[i]
        for b in readings[i + 1]
    ]
    return {
        "word": list(dict.fromkeys(word_tokens)),
        "pairs": list(dict.fromkeys(pairs)),
        "ini": list(dict.fromkeys(ini_tokens)),
        "whole": list(dict.fromkeys("".join(p) for p in whole)) if readings else [],
        "whole_ini": list(dict.fromkeys("".join(r[0] for r in p) for p in whole))
        if readings
        else [],
        "map": mapping,
    }


@lru_cache(maxsize=20000)
def words_pinyin(text: str) -> tuple[str, ...]:
    """Readings of each item (products, places: separated by 、 or spaces) run together, and of
    its words: youmianyuyu, youmian, yu; kundulun … (Products repeat from workshop to workshop,
    hence the cache.)"""
    out = []
    for item in re.split(r"[、，,\s]+", text):
        if not item:
            continue
        out += word_pinyin(item.lower())[0]
        for w, _, _ in words(item):
            out += word_pinyin(w)[0]
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=1)
def syllables() -> frozenset:
    """Every syllable a character can be read as (ü as v): how typed pinyin is cut."""
    table = reading_table()
    out = set(table["chars"].values())
    for readings in itertools.chain(table["phrases"].values(), NAME_ALTERNATIVES.values()):
        out.update(readings)
    return frozenset(r for r in out if r.isascii() and r.isalpha() and set(r) & set("aeiouv"))


def query_pinyin(text: str) -> str:
    """The most likely reading of a Chinese query run, run together (豆付 → doufu), for
    same-sound character typos."""
    return "".join(r[0] for r in text_readings(text))
