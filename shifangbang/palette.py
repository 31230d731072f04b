"""The deployment's colours (tiers, 色标化 codes, the not-operating grey) as CSS classes, so no page
needs a style attribute and the Content-Security-Policy can refuse them all (headers.py).

A template writes `class="badge {{ t.colour|bg }}"`; the rules behind those classes are appended to
the site's style sheets when they are fingerprinted at start-up (assets.py), so they cost no extra
request and change name whenever the deployment file's colours do. A colour that is not a plain
#rrggbb gets no class at all: nothing from a file reaches CSS unchecked.
"""

import re

HEX = re.compile(r"#[0-9a-fA-F]{6}")
# The style sheets that carry the palette: the public site, the back office and the poster.
SHEETS = ("css/site.css", "css/admin.css", "css/poster.css")


def colours(deployment) -> list[str]:
    from .public_status import NOT_OPERATING_COLOUR

    found = [t.colour for t in (*deployment.tiers, deployment.unrated)]
    found += [c.get("hex", "") for c in deployment.colour_codes]
    found.append(NOT_OPERATING_COLOUR)
    return sorted({c.lower() for c in found if HEX.fullmatch(c or "")})


def _class(prefix: str, colour) -> str:
    colour = str(colour or "")
    return f"{prefix}-{colour[1:].lower()}" if HEX.fullmatch(colour) else ""


def bg(colour) -> str:
    """The class that paints an element's background in this colour."""
    return _class("bg", colour)


def bd(colour) -> str:
    """The class that draws an element's border in this colour."""
    return _class("bd", colour)


def css(deployment) -> str:
    rules = [
        f".{bg(c)}{{background-color:{c}}}.{bd(c)}{{border-color:{c}}}" for c in colours(deployment)
    ]
    return (
        "\n/* The deployment file's colours (shifangbang/palette.py). */\n"
        + "\n".join(rules)
        + "\n"
    )
