"""labutils.i18n: one setting chooses the messages' language; unset, the locale decides."""

import pytest

from labutils import i18n, widgets
from labutils import perceptron as P


def _set_env(monkeypatch, **values):
    """Only the variables given (the setting and the locale's), every other one unset."""
    for name in (i18n.LANG_ENV, *i18n.LOCALE_ENVS):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("value, expected", [
    ("ja", "ja"), ("en", "en"), ("JA", "ja"), ("ja_JP.UTF-8", "ja"), ("ja-JP", "ja"),
    ("en_GB", "en"),
])
def test_the_setting_chooses(monkeypatch, value, expected):
    _set_env(monkeypatch, LABUTILS_LANG=value, LANG="C.UTF-8" if expected == "ja" else "ja_JP")
    assert i18n.lang() == expected


@pytest.mark.parametrize("env, expected", [
    ({"LANG": "ja_JP.UTF-8"}, "ja"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({}, "en"),
    ({"LC_ALL": "ja_JP.UTF-8", "LANG": "en_US.UTF-8"}, "ja"),   # LC_ALL before LANG
    ({"LC_ALL": "C", "LANG": "ja_JP.UTF-8"}, "en"),
    ({"LC_MESSAGES": "ja_JP.UTF-8", "LANG": "C"}, "ja"),       # LC_MESSAGES before LANG
    ({"LC_ALL": "", "LANG": "ja_JP.eucJP"}, "ja"),             # an empty variable is unset
])
def test_without_the_setting_the_locale_decides(monkeypatch, env, expected):
    _set_env(monkeypatch, **env)
    assert i18n.lang() == expected


def test_an_unknown_setting_warns_and_keeps_english(monkeypatch):
    _set_env(monkeypatch, LABUTILS_LANG="fr", LANG="ja_JP.UTF-8")
    with pytest.warns(UserWarning, match="LABUTILS_LANG='fr'"):
        assert i18n.lang() == "en"


def test_say_picks_the_language_and_fills_the_fields(monkeypatch):
    _set_env(monkeypatch, LABUTILS_LANG="ja")
    assert i18n.say("{n} epochs", "{n} エポック", n=3) == "3 エポック"
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert i18n.say("{n} epochs", "{n} エポック", n=3) == "3 epochs"
    assert i18n.say("braces {} stay", "波括弧 {} はそのまま") == "braces {} stay"


def test_say_needs_both_languages():
    with pytest.raises(TypeError):
        i18n.say("only English")


def test_the_truth_table_speaks_the_students_language(monkeypatch):
    args = (*P.GATE_PARAMS["AND"], P.TARGETS["XOR"])  # AND and XOR agree on one row
    _set_env(monkeypatch, LABUTILS_LANG="ja")
    japanese = widgets.truth_table_html(*args)
    _set_env(monkeypatch, LABUTILS_LANG="en")
    english = widgets.truth_table_html(*args)
    assert "<th>出力</th><th>正解</th>" in japanese and "正しい行 1/4" in japanese
    assert "<th>output</th><th>wanted</th>" in english and "1/4 rows right" in english
    # the table itself (inputs, outputs, marks) is the same in both
    assert japanese.split("</tr>", 1)[1].split("</table>")[0] == \
        english.split("</tr>", 1)[1].split("</table>")[0]
