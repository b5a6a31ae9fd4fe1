"""The patient app's string catalogs: ``static/i18n/<lang>.json``, shared by pages and scripts."""

from __future__ import annotations

import json
from functools import lru_cache

from .. import ROOT

CATALOGS = ROOT / "static" / "i18n"
DEFAULT = "en"


def languages() -> list[str]:
    return sorted(p.stem for p in CATALOGS.glob("*.json"))


@lru_cache(maxsize=16)
def catalog(lang: str) -> dict[str, str]:
    base = json.loads((CATALOGS / f"{DEFAULT}.json").read_text(encoding="utf-8"))
    if lang != DEFAULT and lang in languages():
        base |= json.loads((CATALOGS / f"{lang}.json").read_text(encoding="utf-8"))
    return base


def translator(lang: str):
    strings = catalog(lang)

    def t(key: str, **values) -> str:
        text = strings.get(key, key)
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    return t
