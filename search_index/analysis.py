"""Text analysis for the index: jieba words, character bigrams, pinyin.

This module path is stored inside every index (Whoosh pickles the schema and its tokenizers),
so the class names and this file's location must stay put; nothing heavy is kept on the
tokenizer objects themselves.

Memory matters (each gunicorn worker holds this): jieba loads a dictionary filtered to common
words (plus our domain words), and pypinyin runs without its phrase dictionary. Heteronyms are
therefore handled by indexing every reading (capped), so 重庆 is found as chongqing and
zhongqing alike. The query side needs neither library: it looks typed pinyin up among the
index's own pinyin terms (query.py) and matches Chinese by character pairs.
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
)
JIEBA_MIN_FREQ = 50

_jieba = None
_jieba_lock = threading.Lock()


def _small_dictionary() -> Path:
    """jieba's dictionary without its rare words (a quarter of the memory); cached on disk."""
    import jieba

    path = Path(tempfile.gettempdir()) / f"shifangbang-jieba-{JIEBA_MIN_FREQ}-{os.getuid()}.txt"
    if not path.exists():
        source = Path(jieba.__file__).with_name("dict.txt")
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(source, encoding="utf-8") as src, open(tmp, "w", encoding="utf-8") as out:
            out.writelines(line for line in src if int(line.split()[1]) >= JIEBA_MIN_FREQ)
        os.replace(tmp, path)
    return path


def jieba_tokenizer():
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import logging

                import jieba

                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer(str(_small_dictionary()))
                tk.initialize()
                for word in DOMAIN_WORDS:
                    tk.add_word(word, freq=200000)
                _jieba = tk
    return _jieba


def add_words(words) -> None:
    """Teach jieba names it should not split (varieties, brands, places) before indexing them."""
    tk = jieba_tokenizer()
    for w in words:
        if w and len(w) >= 2 and w not in tk.FREQ and CJK.fullmatch(w):
            tk.add_word(w, freq=100000)
            words_pinyin.cache_clear()


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


def bigrams(text: str, query: bool = False) -> list[tuple[str, int, int]]:
    """Chinese runs as overlapping character pairs; letters and digits as whole lower-case words.

    Indexing also emits each run's last character alone, so every character starts some token
    and a one-character query can match by prefix. A query needs only the pairs (as a phrase).
    """
    out = []
    for m in RUNS.finditer(text):
        run, start = m.group(), m.start()
        if m.lastgroup != "cjk":
            out.append((run.lower(), start, m.end()))
            continue
        for i in range(len(run) - 1):
            out.append((run[i : i + 2], start + i, start + i + 2))
        if not query or len(run) == 1:
            out.append((run[-1], m.end() - 1, m.end()))
    return out


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
    def __eq__(self, other):
        return other is not None and self.__class__ is other.__class__

    def texts(self, value: str) -> list[str]:
        return [text for text, _, _ in bigrams(value)]

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
            bigrams(value, query=(mode == "query")), start_pos
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


# --- pinyin (index side) -------------------------------------------------------------------------

MAX_READINGS = 3  # per character
MAX_VARIANTS = 4  # per word


@lru_cache(maxsize=20000)
def char_readings(ch: str) -> tuple[str, ...]:
    """All readings of one character, most common first, tone-less (ü as v)."""
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
    os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "true")
    from pypinyin import Style, pinyin

    if not CJK.fullmatch(ch):
        return (ch.lower(),)
    readings = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    alts = [r for r in (readings[0] if readings else []) if r.isascii() and r.isalpha()]
    return tuple(dict.fromkeys(alts))[:MAX_READINGS] or (ch,)


@lru_cache(maxsize=50000)
def word_pinyin(word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(full-pinyin variants, initials variants) of a word, most likely reading first."""
    per_char = [char_readings(c) if CJK.fullmatch(c) else (c,) for c in word]
    if any(not CJK.fullmatch(c) for c in word):
        # letters/digits inside a word stay as they are
        per_char = [char_readings(c) if CJK.fullmatch(c) else (c.lower(),) for c in word]
    full = ["".join(p) for p in itertools.islice(itertools.product(*per_char), MAX_VARIANTS)]
    ini = [
        "".join(s[0] for s in p)
        for p in itertools.islice(itertools.product(*per_char), MAX_VARIANTS)
    ]
    return tuple(dict.fromkeys(full)), tuple(dict.fromkeys(ini))


def name_pinyin(text: str) -> dict:
    """Everything the index keeps about a name's pinyin.

    word and ini: readings and initials of its words and of the known words inside them
    (laodonghe, lianggao; ldh, lg); map: word → readings, so a searcher can highlight pinyin
    matches without loading pypinyin.
    """
    word_tokens, ini_tokens, mapping = [], [], []
    for w, _, _ in words(text):
        full, ini = word_pinyin(w)
        mapping.append([w, list(full), list(ini), ["|".join(char_readings(c)) for c in w]])
        for part in [w] + subwords(w):
            full, ini = word_pinyin(part)
            word_tokens += full
            ini_tokens += ini
    return {
        "word": list(dict.fromkeys(word_tokens)),
        "ini": list(dict.fromkeys(ini_tokens)),
        "map": mapping,
    }


@lru_cache(maxsize=20000)
def words_pinyin(text: str) -> tuple[str, ...]:
    """Readings of each word (products, places): doufu, donghequ, donghe … (Products repeat from
    workshop to workshop, hence the cache; add_words empties it when the dictionary grows.)"""
    out = []
    for w, _, _ in words(text):
        out += word_pinyin(w)[0]
    return tuple(out)
