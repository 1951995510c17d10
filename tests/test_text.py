"""The bilingual tokeniser: domain words, scripts, English, pickling, scikit-learn use."""
from __future__ import annotations

import pickle

import jieba
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
    assert tokenizer("the article highlights that rare earth 的 稀土 are key") == ["key"]


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
