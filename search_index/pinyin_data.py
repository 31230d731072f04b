"""Writes the reading table analysis.py uses: `python pinyin_data.py OUT.json` (run as a script,
in a child process, so that pypinyin's phrase dictionary — 35 MB — never stays in a worker).

The table holds, from pypinyin's own data: each character's most common reading (tone-less, ü as
v), and the phrases (two to four characters) whose reading of some character differs from that
character's most common one (重庆 chong qing, 长寿 chang shou, 银行 yin hang: about 3,400). The
same pypinyin version always writes the same table, and its version is part of the index format.
"""

import json
import os
import sys


def build() -> dict:
    os.environ.pop("PYPINYIN_NO_PHRASES", None)
    from pypinyin import Style
    from pypinyin.constants import PHRASES_DICT, PINYIN_DICT
    from pypinyin.style import convert

    def plain(reading: str) -> str:
        return convert(reading, Style.NORMAL, strict=True).replace("ü", "v")

    chars = {}
    for code, readings in sorted(PINYIN_DICT.items()):
        first = plain(readings.split(",")[0])
        if first.isascii() and first.isalpha():
            chars[chr(code)] = first
    phrases = {}
    for phrase, readings in sorted(PHRASES_DICT.items()):
        if not 2 <= len(phrase) <= 4 or len(readings) != len(phrase):
            continue
        read = [plain(r[0]) for r in readings]
        if all(r.isascii() and r.isalpha() for r in read) and any(
            r != chars.get(c) for r, c in zip(read, phrase)
        ):
            phrases[phrase] = " ".join(read)
    return {"chars": chars, "phrases": phrases}


if __name__ == "__main__":
    out = sys.argv[1]
    tmp = f"{out}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(build(), f, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    os.replace(tmp, out)
