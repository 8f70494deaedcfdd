"""Messages in the student's language: English or Japanese, chosen by one setting.

``LABUTILS_LANG`` (``en`` or ``ja``; a hub sets it in the spawner's environment) chooses; when it
is unset, the locale does: ``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` (the first that is set, as
POSIX reads them) starting with ``ja`` means Japanese, anything else English.

Every message is written in both languages where it is used, so that the pair can never come
apart and a reader of the code sees both::

    from labutils.i18n import say
    assert ok, say("{n}/4 rows right", "{n}/4 行が正しい", n=score)

A third language adds its code to ``LANGUAGES`` and a third text to :func:`say`.
"""

from __future__ import annotations

import os
import warnings

LANG_ENV = "LABUTILS_LANG"
LANGUAGES = ("en", "ja")
DEFAULT = "en"
# POSIX order: the first of these that is set and non-empty names the messages' locale
LOCALE_ENVS = ("LC_ALL", "LC_MESSAGES", "LANG")


def _language_of(value: str) -> str:
    """"ja_JP.UTF-8", "ja-JP", "JA" -> "ja"; "C.UTF-8", "en_US" -> "c", "en"."""
    return value.strip().lower().replace("-", "_").split(".")[0].split("_")[0]


def lang() -> str:
    """The language of the messages: ``LABUTILS_LANG``, else the locale, else English."""
    explicit = os.environ.get(LANG_ENV, "").strip()
    if explicit:
        code = _language_of(explicit)
        if code in LANGUAGES:
            return code
        warnings.warn(f"{LANG_ENV}={explicit!r} is not one of {', '.join(LANGUAGES)}; "
                      f"messages stay in {DEFAULT}", stacklevel=2)
        return DEFAULT
    for name in LOCALE_ENVS:
        value = os.environ.get(name, "").strip()
        if value:
            return "ja" if _language_of(value) == "ja" else DEFAULT
    return DEFAULT


def say(en: str, ja: str, /, **fields) -> str:
    """The message in :func:`lang`'s language, its ``{fields}`` filled in.

    Both texts are required: a message that exists in one language only cannot be written.
    """
    text = {"en": en, "ja": ja}[lang()]
    return text.format(**fields) if fields else text
