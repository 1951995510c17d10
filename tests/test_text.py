"""The bilingual tokeniser: domain words, scripts, English, pickling, scikit-learn use."""
from __future__ import annotations

import pickle

import jieba
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from xitu.text import Tokenizer, detect_language, detect_script, domain_words


def test_domain_words_stay_whole_where_default_jieba_splits_them(tokenizer):
    must_split_by_default = ["稀土永磁", "中重稀土", "镨钕", "一批一证", "两用物项", "莱纳斯"]
    for w in must_split_by_default:
        assert jieba.lcut(w) != [w], f"default jieba already keeps {w}; pick a better test word"
        assert tokenizer(w) == [w]
        assert tokenizer(f"关于{w}的消息") == [w, "消息"]
    assert tokenizer("中国加强出口管制,工信部回应") == ["中国", "加强", "出口管制", "工信部", "回应"]


def test_every_lexicon_word_is_one_token(tokenizer):
    stop = tokenizer.stopwords
    for w in domain_words(tokenizer.lexicon_dir):
        if w not in stop:
            assert tokenizer(w) == [w], w


def test_tokeniser_does_not_touch_global_jieba(tokenizer):
    tokenizer("稀土永磁")
    assert jieba.lcut("一批一证") != ["一批一证"]


def test_traditional_and_fullwidth_text_give_simplified_tokens(tokenizer):
    assert tokenizer("中國對稀土實施出口管制") == tokenizer("中国对稀土实施出口管制")
    assert tokenizer("ＵＳＡ　Ｔａｒｉｆｆｓ") == ["usa", "tariffs"]


def test_english_words_lowercased_no_punctuation_or_numbers(tokenizer):
    toks = tokenizer("China's Export-Controls hit U.S. magnets: 157.5% rise, G7 reacts!")
    assert toks == ["china", "export-controls", "hit", "u.s.", "magnets", "rise", "g7", "reacts"]
    assert all(any(ch.isalnum() for ch in t) for t in toks)


def test_line_wrap_space_inside_chinese_is_removed(tokenizer):
    assert tokenizer("中欧之 间的合作") == tokenizer("中欧之间的合作")


def test_stopwords_removed_in_both_languages(tokenizer):
    assert tokenizer("the article highlights that rare earth 的 are key") == ["key"]


# --------------------------------------------------------------------------- domain terms

DOMAIN_TERMS = {
    "place names": ["白云鄂博", "包头", "赣州", "龙南"],
    "compounds": ["离子型稀土", "稀土配额", "稀土永磁", "钕铁硼"],
    "elements": ["镝", "铽", "钐钴", "钇", "镓", "锗"],
    "policy terms": ["出口管制", "两用物项", "出口许可"],
}


@pytest.mark.parametrize("kind", sorted(DOMAIN_TERMS))
def test_domain_terms_are_single_tokens_in_context(tokenizer, kind):
    for w in DOMAIN_TERMS[kind]:
        assert tokenizer(w) == [w], (kind, w)
        toks = tokenizer(f"报道称{w}方面出现新变化")
        assert w in toks, (kind, w, toks)


def test_one_character_elements_are_not_glued_to_a_neighbour(tokenizer):
    assert tokenizer("中国对镝、铽实施出口管制") == ["中国", "镝", "铽", "实施", "出口管制"]
    assert tokenizer("报道称镝价上涨") == ["报道", "镝", "价", "上涨"]  # 称 is a stopword


def test_corpus_wide_words_stay_tokens(tokenizer):
    """稀土 is a token (the topic models drop it from topic words by a data-driven rule);
    with it a stopword, 稀土配额 used to lose 稀土 and leave 配额."""
    assert tokenizer("稀土") == ["稀土"]
    assert tokenizer("稀土配额") == ["稀土配额"]
    assert tokenizer("白云鄂博稀土矿") == ["白云鄂博", "稀土矿"]
    assert "稀土" not in tokenizer.stopwords


def test_lexicon_ships_in_the_package_and_a_project_extends_it(tmp_path):
    from xitu.text import lexicon_files, packaged_lexicon_dir

    pkg = packaged_lexicon_dir()
    for name in ("rare_earth_zh.txt", "stopwords_zh.txt", "stopwords_domain.txt", "stance_keywords.tsv"):
        assert (pkg / name).is_file(), name
    proj = tmp_path / "data" / "lexicon"
    proj.mkdir(parents=True)
    (proj / "rare_earth_zh.txt").write_text("# project terms\n南方稀土集团\n", encoding="utf-8")
    (proj / "stopwords_domain.txt").write_text("tariffs\n", encoding="utf-8")
    assert len(lexicon_files("rare_earth_zh.txt", proj)) == 2
    tk = Tokenizer(proj, cache_dir=tmp_path / "jieba")
    assert tk("南方稀土集团白云鄂博") == ["南方稀土集团", "白云鄂博"]  # project + packaged words
    assert tk("tariffs on magnets") == ["magnets"]
    assert Tokenizer(cache_dir=tmp_path / "j2")("tariffs") == ["tariffs"]  # the project list only extends


def test_tokenizer_works_from_an_installed_wheel_outside_the_project(tmp_path):
    """Build a wheel, install it into a folder, and tokenise from a folder outside the
    checkout in a fresh interpreter: the packaged lexicon is found, and jieba's cache goes
    to the user cache (HOME points into tmp_path)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    wheels, target, home, work = (tmp_path / d for d in ("wheels", "target", "home", "work"))
    for d in (wheels, target, home, work):
        d.mkdir()
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(wheels), str(root)], capture_output=True, text=True, timeout=600,
                           env={**os.environ, "PIP_NO_INDEX": "1"})
    if build.returncode != 0 and "No module named" in build.stderr:
        pytest.skip(f"cannot build a wheel here: {build.stderr[-300:]}")
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next(wheels.glob("xitu-*.whl"))
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                           "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=600)
    assert inst.returncode == 0, inst.stderr[-2000:]
    env = {k: v for k, v in os.environ.items() if k not in ("XITU_ROOT", "XITU_CACHE", "PYTHONPATH")}
    env.update(PYTHONPATH=str(target), HOME=str(home))
    code = ("import json, xitu, xitu.text as t; tk = t.Tokenizer(); "
            "print(json.dumps([xitu.__file__, tk('白云鄂博稀土矿'), str(tk.cache_dir)]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    import json

    where, toks, cache = json.loads(out.stdout.strip().splitlines()[-1])
    assert where.startswith(str(target))
    assert toks == ["白云鄂博", "稀土矿"]
    assert cache == str(home / ".cache" / "xitu" / "jieba")


def test_pickle_round_trip_and_sklearn(tokenizer):
    clone = pickle.loads(pickle.dumps(tokenizer))
    text = "美国对中国稀土永磁加征关税 tariffs"
    assert clone(text) == tokenizer(text)
    cv = CountVectorizer(tokenizer=tokenizer, lowercase=False, token_pattern=None)
    X = cv.fit_transform(["中国 稀土永磁 出口管制", "Tariffs on magnets 稀土永磁"])
    assert {"稀土永磁", "出口管制", "tariffs", "magnets"} <= set(cv.get_feature_names_out())
    assert X.shape == (2, len(cv.vocabulary_))
    pickle.loads(pickle.dumps(cv))  # a fitted vectorizer with our tokenizer pickles


def test_language_and_script_detection():
    assert detect_language("中国宣布稀土出口管制") == "zh"
    assert detect_language("China announced rare earth export controls") == "en"
    assert detect_language("12345 ...") == "und"
    assert detect_script("中國宣布對稀土實施出口管制") == "Hant"
    assert detect_script("中国宣布对稀土实施出口管制") == "Hans"
    assert detect_script("no chinese") == ""


def test_acronyms_that_look_like_stopwords_are_kept():
    """'US' is a key actor of this corpus, not the pronoun 'us'; a shouted headline is not
    a row of acronyms."""
    from xitu.text import Tokenizer

    tok = Tokenizer()
    assert tok("US imposes tariffs on China")[:1] == ["us"]
    assert "us" not in tok("Let us talk about it") and "it" not in tok("Let us talk about it")
    assert {"who", "un"} <= set(tok("WHO and UN officials met"))
    assert "it" in tok("The IT sector grew")
    assert tok("稀土出口管制 US")[-1] == "us"
    assert not {"to", "the"} & set(tok("CHINA BANS EXPORTS TO THE US"))
    assert tok.tokenize("稀土") == tok("稀土") == ["稀土"]


def test_the_tokeniser_refuses_what_is_not_text():
    import pytest

    from xitu.text import Tokenizer

    for bad in (None, float("nan"), 3):
        with pytest.raises(TypeError, match="reads text"):
            Tokenizer()(bad)


def test_tokeniser_keeps_ling_zero_and_supplementary_han_characters():
    """Review: 〇 (U+3007) and characters outside the Basic Multilingual Plane (𠮷, CJK
    extension B) were not Han to the tokeniser and were dropped without a word."""
    from xitu.text import Tokenizer, detect_language

    toks = Tokenizer()("二〇二五年 𠮷野家 稀土")
    assert "〇" in "".join(toks) and "𠮷" in "".join(toks)
    assert detect_language("𠮷𠮷𠮷") == "zh"
