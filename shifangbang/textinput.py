"""Text typed into forms and query strings, cleaned in one place.

Control characters are dropped before any view sees them (the app's request class): NUL breaks
PostgreSQL, ESC and friends garble terminals and exports, and bidirectional overrides (RLO …)
make "gpj.exe" read as "exe.jpg" on an officer's screen. Line breaks and tabs stay.
Over-long text is refused with a message naming the limit (`too_long`), never cut.
"""

import re

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.utils import cached_property

# C0 controls but tab, LF, CR; DEL and C1; bidi embeddings, overrides and isolates; BOM.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean(text: str) -> str:
    return CONTROL.sub("", text)


def too_long(label: str, limit: int, text: str) -> str | None:
    """The Chinese message for text over `limit` characters, or None."""
    if len(text) <= limit:
        return None
    return f"{label}最多 {limit} 字，您填写了 {len(text)} 字，请删减后再提交（内容已保留）。"


def _cleaned(values: ImmutableMultiDict) -> ImmutableMultiDict:
    if not any(CONTROL.search(v) for v in values.values()):
        return values
    return ImmutableMultiDict([(k, clean(v)) for k, v in values.items(multi=True)])


class CleanRequest(Request):
    """Flask's request, with control characters removed from form fields and query values."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        self.__dict__["form"] = _cleaned(self.__dict__["form"])

    @cached_property
    def args(self) -> ImmutableMultiDict:
        return _cleaned(super().args)
