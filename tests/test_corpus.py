"""Export parsing, stable ids, merging across queries, segmentation, bad input."""
from __future__ import annotations

import shutil

import pytest
from conftest import make_export
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xitu.corpus import (ExportFormatError, build_corpus, ingest, is_structured, parse_export,
                         split_body, write_processed, read_processed)

STRUCT = ("Core Viewpoint - China tightened export controls on rare earths [1][3] "
          "Group 1: Policy Impact - The new controls cover seven elements [2] - Prices rose by 20% [4] "
          "Group 2 - The U.S. invested $400 million in MP Materials [5] "
          "Industry Overview - Japan imported magnets from Lynas [6]")
ZH = "2025年10月9日,中国出台稀土新规。美国反应强烈!欧洲 怎么办?各方都在观望 ..."


# --------------------------------------------------------------------------- the seeds


def test_seed_counts(seed_corpus):
    rep = seed_corpus.report
    assert len(rep.files) == 5
    assert rep.n_records == 36 and rep.n_articles == 36 and rep.merged == 0
    assert rep.n_segments == len(seed_corpus.segments) == 380
    # the one article without a source/date line is kept and reported, nothing skipped
    assert [(i.file, i.line, i.action) for i in rep.issues] == [("001_504c808b19613376.txt", 23, "kept")]
    undated = seed_corpus.articles[seed_corpus.articles["published"] == ""]
    assert len(undated) == 1 and undated.iloc[0]["title"].startswith("智慧赋能")
    assert seed_corpus.articles["language"].value_counts().to_dict() == {"en": 33, "zh": 3}
    assert seed_corpus.segments["segment_id"].is_unique
    assert seed_corpus.articles["article_id"].is_unique


def test_every_seed_line_is_accounted_for(paths):
    for f in sorted(paths.raw.glob("*.txt")):
        e = parse_export(f)
        nonblank = sum(1 for s in f.read_text(encoding="utf-8").splitlines() if s.strip())
        assert e.lines_accounted == nonblank, f.name


def test_seed_segments_have_no_citation_markers(seed_corpus):
    s = seed_corpus.segments
    assert not s["text"].str.contains(r"\[\d+\]").any()
    structured = s[s["section"] != ""]
    assert (structured["citations"] != "").mean() > 0.9
    assert not s["text"].str.match(r"^\s*-\s").any()


# --------------------------------------------------------------------------- ids


def test_ids_survive_renaming_and_reordering(paths, tmp_path, seed_corpus):
    files = sorted(paths.raw.glob("*.txt"))
    for i, f in enumerate(reversed(files)):  # new names, reversed sort order
        shutil.copy(f, tmp_path / f"{i:02d}_renamed.txt")
    again = ingest(tmp_path)
    assert set(again.articles["article_id"]) == set(seed_corpus.articles["article_id"])
    assert list(again.segments["segment_id"]) == list(seed_corpus.segments["segment_id"])


def test_article_found_by_two_queries_is_one_article(tmp_path):
    art = ("中国稀土出口管制升级", "Sou Hu Cai Jing· 2025-10-09 11:39", STRUCT)
    (tmp_path / "a.txt").write_text(make_export("稀土管控", [art]), encoding="utf-8")
    (tmp_path / "b.txt").write_text(make_export("稀土技术", [art, ("另一篇", "Qi Huo Ri Bao Wang· 2025-10-10 08:00", ZH)]), encoding="utf-8")
    c = ingest(tmp_path)
    assert len(c.articles) == 2 and c.report.merged == 1
    row = c.articles[c.articles["title"] == art[0]].iloc[0]
    assert row["queries"] == "稀土技术; 稀土管控"  # sorted
    assert row["occurrences"] == "a.txt:5; b.txt:5"


def test_same_article_different_bodies_is_reported(tmp_path):
    a1 = ("标题", "X· 2025-01-01 10:00", STRUCT)
    a2 = ("标题", "X· 2025-01-01 10:00", STRUCT[:120])
    (tmp_path / "a.txt").write_text(make_export("q1", [a1]), encoding="utf-8")
    (tmp_path / "b.txt").write_text(make_export("q2", [a2]), encoding="utf-8")
    c = ingest(tmp_path)
    assert len(c.articles) == 1 and c.articles.iloc[0]["body"] == STRUCT
    assert any("different body" in i.reason and i.file == "b.txt" for i in c.report.issues)


# --------------------------------------------------------------------------- segmentation


def test_structured_summary_split_into_claims():
    assert is_structured(STRUCT)
    segs = split_body(STRUCT, "en")
    assert [s.text for s in segs] == [
        "China tightened export controls on rare earths",
        "The new controls cover seven elements",
        "Prices rose by 20%",
        "The U.S. invested $400 million in MP Materials",
        "Japan imported magnets from Lynas",
    ]
    assert [s.section for s in segs] == ["Core Viewpoint", "Group 1", "Group 1", "Group 2", "Industry Overview"]
    assert [s.heading for s in segs] == ["", "Policy Impact", "Policy Impact", "", "Industry Overview"]
    assert [s.citations for s in segs] == ["1;3", "2", "4", "5", "6"]


def test_chinese_body_split_into_sentences():
    segs = split_body(ZH, "zh")
    assert [s.text for s in segs] == ["2025年10月9日,中国出台稀土新规。", "美国反应强烈!", "欧洲怎么办?", "各方都在观望"]


def test_english_plain_body_split_into_sentences():
    segs = split_body("China banned exports. The EU protested! Talks resume?", "en")
    assert [s.text for s in segs] == ["China banned exports.", "The EU protested!", "Talks resume?"]


def test_traditional_script_is_detected(tmp_path):
    trad = ("稀土出口管制", "中央社· 2025-10-10 09:00", "中國宣布對稀土實施出口管制。美國表示將採取報復措施。")
    (tmp_path / "t.txt").write_text(make_export("稀土", [trad]), encoding="utf-8")
    c = ingest(tmp_path)
    assert c.articles.iloc[0]["script"] == "Hant"
    assert set(c.segments["script"]) == {"Hant"} and len(c.segments) == 2


# --------------------------------------------------------------------------- encodings and bad input


@pytest.mark.parametrize("encoding,newline", [("utf-8", "\n"), ("utf-8-sig", "\n"), ("utf-8", "\r\n"), ("gb18030", "\r\n"), ("utf-16", "\n")])
def test_encodings_and_line_endings_give_the_same_corpus(tmp_path, paths, encoding, newline):
    src = paths.raw / "000_5daa9991a6f03c11.txt"
    text = src.read_text(encoding="utf-8").replace("\n", newline)
    (tmp_path / "x.txt").write_bytes(text.encode(encoding))
    e = parse_export(tmp_path / "x.txt")
    ref = parse_export(src)
    assert [(a.title, a.source, a.published, a.body) for a in e.articles] == [(a.title, a.source, a.published, a.body) for a in ref.articles]


def test_bad_header_names_file_and_line(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text("Workflow\n稀土\nicon\nSearch results\n标题\n", encoding="utf-8")
    with pytest.raises(ExportFormatError) as err:
        parse_export(p)
    assert err.value.file == "bad.txt" and err.value.line == 4
    assert "bad.txt:4" in str(err.value) and "Search documents" in str(err.value)


def test_undecodable_bytes_name_the_line(tmp_path):
    p = tmp_path / "bin.txt"
    p.write_bytes("Workflow\n稀土\nicon\nSearch documents\n".encode() + b"\xff\xfe\xfa\x00 junk\n")
    with pytest.raises(ExportFormatError) as err:
        parse_export(p)
    assert err.value.line == 5


def test_empty_raw_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no .txt exports"):
        ingest(tmp_path)


def test_records_with_problems_are_kept_and_reported(tmp_path):
    text = make_export("q", [
        ("Sou Hu Cai Jing· 2025-10-03 10:00", None, None),  # a stray source line, no title
        ("无日期的文章", None, "Core Viewpoint - A claim [1]"),
        ("日期错误", "Sou Hu Cai Jing· 2025-13-45 10:00", "Core Viewpoint - Another claim [1]"),
        ("没有正文", "Sou Hu Cai Jing· 2025-10-01 10:00", None),
        ("最后一篇", "Sou Hu Cai Jing· 2025-10-02 10:00", "中国宣布新规。"),
    ])
    (tmp_path / "p.txt").write_text(text, encoding="utf-8")
    e = parse_export(tmp_path / "p.txt")
    assert [a.title for a in e.articles] == ["无日期的文章", "日期错误", "没有正文", "最后一篇"]
    reasons = [(i.line, i.action, i.reason.split(";")[0]) for i in e.issues]
    assert (5, "skipped", "source/date line with no title before it") in reasons
    assert (6, "kept", "no source/date line") in reasons
    assert (9, "kept", "impossible date 2025-13-45 10:00") in reasons
    assert (11, "kept", "no body line") in reasons
    assert len(reasons) == 4
    nonblank = sum(1 for s in text.splitlines() if s.strip())
    assert e.lines_accounted == nonblank


def test_processed_tables_round_trip(tmp_path, seed_corpus):
    write_processed(seed_corpus, tmp_path)
    arts, segs = read_processed(tmp_path)
    assert list(segs["segment_id"]) == list(seed_corpus.segments["segment_id"])
    assert list(segs["text"]) == list(seed_corpus.segments["text"])
    assert (tmp_path / "ingest_report.json").exists() and (tmp_path / "ingest_issues.csv").exists()


# --------------------------------------------------------------------------- property-based


_line = st.one_of(
    st.sampled_from(["", "   ", "Sou Hu Cai Jing· 2025-08-19 06:32", "X· 2025-02-30", "Core Viewpoint - claim [1]",
                     "稀土新规出台", "Group 1: Heading - a [1] - b [2]", "[1][2]", "- - -", "\ufeffWorkflow", "icon"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=60),
)


# derandomize: the same 300 examples on every run, so CI is reproducible (raise max_examples
# or drop derandomize locally to hunt for new failures)
@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(_line, max_size=25), crlf=st.booleans(), bom=st.booleans(), header_ok=st.booleans(), cut=st.integers(0, 400))
def test_mangled_exports_never_lose_a_line(tmp_path, body, crlf, bom, header_ok, cut):
    header = ["Workflow", "稀土", "icon", "Search documents"] if header_ok else ["Workflow", "稀土", "icon"]
    text = "\n".join(header + body) + "\n"
    if cut:
        text = text[: max(1, len(text) - cut)]  # truncated download
    if crlf:
        text = text.replace("\n", "\r\n")
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    p = tmp_path / "m.txt"
    p.write_bytes(data)
    try:
        e = parse_export(p)
    except ExportFormatError as err:
        n_lines = data.count(b"\n") + 1  # "end of file" may point one line past the last
        assert err.file == "m.txt" and 1 <= err.line <= n_lines + 1 and f"m.txt:{err.line}: expected" in str(err)
        if err.line > 4:  # past the header only undecodable/binary content is fatal
            assert "\x00" in text
        return
    nonblank = sum(1 for s in data.decode("utf-8-sig").replace("\r\n", "\n").split("\n") if s.strip())
    assert e.lines_accounted == nonblank
    c = build_corpus([e])
    assert c.report.n_records == len(e.articles)
    assert c.articles["n_segments"].sum() == len(c.segments)


# --------------------------------------------------------------------------- issue 12: ingest fixes


def test_body_ending_in_a_date_is_a_body_not_a_source_line(tmp_path):
    """Issue 12.1: only "source· date [time]" (or a bare date) is a source/date line."""
    body_en = "China said the new rules will take effect on 2025-12-01"
    body_zh = "商务部表示新规将于 2025-12-01"
    text = make_export("q", [
        ("New rules", "Sou Hu Cai Jing· 2025-10-09 11:39", body_en),
        ("新规", "Sou Hu Cai Jing· 2025-10-10 08:00", body_zh),
        ("Only a date", "2025-10-11", "Another body ending 2025-10-11 10:00"),
    ])
    (tmp_path / "d.txt").write_text(text, encoding="utf-8")
    e = parse_export(tmp_path / "d.txt")
    assert [(a.title, a.source, a.published, a.body) for a in e.articles] == [
        ("New rules", "Sou Hu Cai Jing", "2025-10-09 11:39", body_en),
        ("新规", "Sou Hu Cai Jing", "2025-10-10 08:00", body_zh),
        ("Only a date", "", "2025-10-11", "Another body ending 2025-10-11 10:00"),
    ]
    # the bodies ending in a date are not flagged; the bare date line is noted (no source)
    assert [(i.line, i.reason.split(";")[0]) for i in e.issues] == [(12, "source/date line without a source")]


def test_a_malformed_date_line_or_joined_exports_are_flagged_not_silent(tmp_path):
    """A source/date line in another form used to become the body, and the real body the
    title of a phantom article, with no issue naming the line; two exports joined with cat
    credited the second one's articles to the first query."""
    text = make_export("q1", [("T1", "Sou Hu Cai Jing· 19.08.2025", "A body. " * 60), ("T2", "X· 2025-10-10 08:00", "B.")])
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    e = parse_export(tmp_path / "a.txt")
    reasons = [(i.line, i.reason) for i in e.issues]
    assert any(line == 6 and "looks like a source/date line not in the form" in r for line, r in reasons)
    assert any(line == 7 and r.startswith("a title of 479 characters") for line, r in reasons)
    joined = make_export("q1", [("T1", "X· 2025-10-09 11:39", "A.")]) + make_export("q2", [("T2", "Y· 2025-10-10 08:00", "B.")])
    (tmp_path / "b.txt").write_text(joined, encoding="utf-8")
    e = parse_export(tmp_path / "b.txt")
    assert [(a.title, a.query) for a in e.articles] == [("T1", "q1"), ("T2", "q2")]
    assert [i.reason.split(";")[0] for i in e.issues] == ["a second export header inside the file (two exports joined?)"]
    # the same without a newline at the end of the first export: "Workflow" glued to its last body
    (tmp_path / "c.txt").write_text(joined.replace("A.\nWorkflow", "A.Workflow"), encoding="utf-8")
    e = parse_export(tmp_path / "c.txt")
    assert [(a.title, a.query, a.body) for a in e.articles] == [("T1", "q1", "A."), ("T2", "q2", "B.")]
    assert any(i.reason.startswith("an export header glued to the end of this line") for i in e.issues)
    for f in ("b.txt", "c.txt"):  # every non-blank line is a header line, an article line or reported
        e = parse_export(tmp_path / f)
        assert e.lines_accounted == e.n_lines - e.blank_lines


def _mixed(tmp_path, lines_and_encodings):
    p = tmp_path / "mixed.txt"
    p.write_bytes(b"".join(s.encode(enc) + b"\n" for s, enc in lines_and_encodings))
    return p


HEADER_LINES = [("Workflow", "utf-8"), ("稀土管控", "utf-8"), ("icon", "utf-8"), ("Search documents", "utf-8")]


def test_utf8_file_with_one_gb18030_line_is_an_error_naming_the_line(tmp_path):
    """Issue 12.3: no silent fallback to GB18030 for a whole file that is UTF-8 but one line
    (decoded as GB18030 it gave "Sou Hu Cai Jing路" and "Gen猫ve")."""
    utf8 = ["Workflow", "rare earths", "icon", "Search documents", "Talks in Geneva",
            "Sou Hu Cai Jing· 2025-10-09 11:39", "Core Viewpoint - Talks in Genève [1]"]
    p = _mixed(tmp_path, [(s, "utf-8") for s in utf8] + [
        ("稀土新规出台", "gb18030"),  # line 8
        ("Sou Hu Cai Jing· 2025-10-10 08:00", "utf-8"), ("Core Viewpoint - New rules [1]", "utf-8"),
    ])
    assert "Gen猫ve" in p.read_bytes().decode("gb18030")  # the whole file is valid GB18030
    with pytest.raises(ExportFormatError) as err:
        parse_export(p)
    assert err.value.line == 8 and "mixed.txt:8:" in str(err.value)
    assert "UTF-8" in str(err.value) and "mixed" in str(err.value)


def test_gb18030_file_with_one_utf8_line_is_an_error_naming_that_line(tmp_path):
    p = _mixed(tmp_path, [(s, "gb18030") for s, _ in HEADER_LINES] + [
        ("中国稀土出口管制升级", "gb18030"), ("搜狐财经· 2025-10-09 11:39", "gb18030"),
        ("中国宣布对稀土实施出口管制,美国表示将采取措施。", "gb18030"),
        ("会谈在日内瓦举行", "utf-8"),  # line 8
        ("搜狐财经· 2025-10-10 08:00", "gb18030"), ("欧盟表示关注供应链安全。", "gb18030"),
    ])
    with pytest.raises(ExportFormatError) as err:
        parse_export(p)
    assert err.value.line == 8 and "mixed" in str(err.value)


def test_big5_file_is_not_guessed_as_gb18030(tmp_path):
    """Big5 bytes are valid GB18030 too (as gibberish): two candidates fit, so refuse."""
    p = tmp_path / "big5.txt"
    p.write_bytes(make_export("稀土", [("中國稀土出口管制", "中央社· 2025-10-10 09:00",
                                        "中國宣布對稀土實施出口管制。美國表示將採取報復措施。")]).encode("big5"))
    with pytest.raises(ExportFormatError, match="Big5") as err:
        parse_export(p)
    assert "big5.txt:2:" in str(err.value)


@pytest.mark.parametrize("encoding,expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("utf-16", "utf-16")])
def test_the_report_says_which_encoding_each_file_was_read_with(tmp_path, paths, encoding, expected):
    text = (paths.raw / "000_5daa9991a6f03c11.txt").read_text(encoding="utf-8")
    (tmp_path / "x.txt").write_bytes(text.encode(encoding))
    c = ingest(tmp_path)
    assert c.report.files[0]["encoding"] == expected
    assert f"x.txt: read as {expected}" in c.report.summary()


EN_PROSE = ("The U.S. Commerce Department approved the deal. Exports approved by U.S. Commerce officials rose "
            "3.5% in May. Lynas signed with Japan Australia Rare Earths B.V. (JARE). Trump called it a “total reset.” "
            "Beijing (Reuters) said talks would resume! Did Dr. Smith agree? Mr. Li called the talks "
            "“constructive” (Xinhua). The plan was approved by U.S. The EU objected. (See the rules.) Prices fell "
            "by 0.5 percent, e.g. for neodymium. Shares of MP Materials Corp. rose 2.1%.")


def test_english_sentences_respect_abbreviations_quotes_decimals_and_brackets():
    """Issue 12.4: no break after "U.S." or "B.V." inside a sentence; closing quotes and
    brackets stay with their sentence."""
    assert [s.text for s in split_body(EN_PROSE, "en")] == [
        "The U.S. Commerce Department approved the deal.",
        "Exports approved by U.S. Commerce officials rose 3.5% in May.",
        "Lynas signed with Japan Australia Rare Earths B.V. (JARE).",
        "Trump called it a “total reset.”",
        "Beijing (Reuters) said talks would resume!",
        "Did Dr. Smith agree?",
        "Mr. Li called the talks “constructive” (Xinhua).",
        "The plan was approved by U.S.",
        "The EU objected.",
        "(See the rules.)",
        "Prices fell by 0.5 percent, e.g. for neodymium.",
        "Shares of MP Materials Corp. rose 2.1%.",
    ]


def test_chinese_sentences_keep_a_bracketed_source_with_the_sentence_before_it():
    """Issue 12.4: "（Reuters）" after a full stop closes that sentence, not opens the next."""
    zh = ("美国表示反对。（Reuters）中国商务部称,新规将于12月1日生效。他说:“这是正常的。”价格上涨3.5%。"
          "（新华社）（一）出口管制范围扩大;中国（北京）宣布新规！")
    assert [s.text for s in split_body(zh, "zh")] == [
        "美国表示反对。（Reuters）",
        "中国商务部称,新规将于12月1日生效。",
        "他说:“这是正常的。”",
        "价格上涨3.5%。（新华社）",
        "（一）出口管制范围扩大;",
        "中国（北京）宣布新规！",
    ]


@pytest.mark.parametrize("body,lang,truncation", [
    ("China banned exports. The EU protested and said the", "en", "mid-sentence"),
    ("中国宣布新规。美国表示", "zh", "mid-sentence"),
    ("Core Viewpoint - China tightened controls [1] - Prices rose by 20", "en", "mid-sentence"),
    ("China banned exports. The EU protested ...", "en", "marked"),
    ("中国宣布新规。美国表示……", "zh", "marked"),
    ("China banned exports. Trump called it a “total reset.”", "en", ""),
    ("China banned exports. Talks resume (Reuters).", "en", ""),
    ("中国宣布新规。美国表示反对。（Reuters）", "zh", ""),
    ("Core Viewpoint - China tightened controls [1] - Prices rose by 20% [2]", "en", ""),
])
def test_a_body_cut_mid_sentence_is_flagged_and_reported_not_dropped(tmp_path, body, lang, truncation):
    """Issue 12.5: "..."/"…" is the export's own mark; a body that stops mid-sentence (or a
    summary whose last claim lacks its citation) is flagged on the article and counted."""
    (tmp_path / "t.txt").write_text(make_export("q", [("标题", "X· 2025-01-01 10:00", body)]), encoding="utf-8")
    c = ingest(tmp_path)
    art = c.articles.iloc[0]
    assert art["truncation"] == truncation and art["truncated"] == bool(truncation)
    assert art["body"] == body and art["n_segments"] == len(c.segments) >= 2  # nothing dropped
    cut = [i for i in c.report.issues if "mid-sentence" in i.reason]
    if truncation == "mid-sentence":
        assert [(i.file, i.line, i.action) for i in cut] == [("t.txt", 7, "kept")]
        assert sum(n for r, n in c.report.counts()["by_reason"].items() if "mid-sentence" in r) == 1
        assert c.report.counts()["truncated_bodies"] == {"marked": 0, "mid-sentence": 1}
    else:
        assert cut == []


# --------------------------------------------------------------------------- writing the tables


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_failure_while_writing_leaves_the_complete_old_tables(tmp_path, seed_corpus, monkeypatch):
    """Issue 12.6: all tables or none. The 2nd table's writer fails: the folder still holds
    the complete old set (and other files in it, e.g. a notebook's output), no leftovers."""
    import pandas as pd

    out = tmp_path / "processed"
    write_processed(seed_corpus, out)
    (out / "topic_assignments.csv").write_text("segment_id,topic\n", encoding="utf-8")
    before = _snapshot(out)
    real, calls = pd.DataFrame.to_csv, []

    def failing(self, *args, **kw):  # the 2nd table fails while it is written
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(self, *args, **kw)

    monkeypatch.setattr(pd.DataFrame, "to_csv", failing)
    changed = type(seed_corpus)(seed_corpus.articles.head(3), seed_corpus.segments.head(5), seed_corpus.report)
    with pytest.raises(OSError, match="No space left"):
        write_processed(changed, out)
    assert len(calls) == 2
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["processed"]  # no staging folder left


def test_tables_are_replaced_together_and_other_files_kept(tmp_path, seed_corpus):
    out = tmp_path / "processed"
    write_processed(seed_corpus, out)
    (out / "topic_assignments.csv").write_text("segment_id,topic\n", encoding="utf-8")
    small = type(seed_corpus)(seed_corpus.articles.head(3), seed_corpus.segments.head(5), seed_corpus.report)
    paths = write_processed(small, out)
    assert [p.name for p in paths] == ["articles.csv", "segments.csv", "ingest_issues.csv", "ingest_report.json"]
    arts, segs = read_processed(out)
    assert len(arts) == 3 and len(segs) == 5
    assert (out / "topic_assignments.csv").read_text(encoding="utf-8") == "segment_id,topic\n"


def test_an_unwritable_output_location_is_an_oserror_and_changes_nothing(tmp_path, seed_corpus):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        write_processed(seed_corpus, blocker / "processed")
    assert blocker.read_text() == "not a folder" and sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_csv_exports_are_excel_safe_and_read_back_unchanged(tmp_path, seed_corpus):
    """Cells a spreadsheet would run as formulas get a leading ' in the CSV; read_processed
    restores the exact text, also for text that itself starts with a quote."""
    arts = seed_corpus.articles.head(4).copy()
    tricky = ["=SUM(A1:A9)", "-10% for magnets", "'=already quoted", "@mention +1"]
    arts["title"] = tricky
    segs = seed_corpus.segments.head(4).copy()
    segs["text"] = ["+86 10 6512", "-", "''-double", "plain text"]
    write_processed(type(seed_corpus)(arts, segs, seed_corpus.report), tmp_path)
    raw = (tmp_path / "articles.csv").read_text(encoding="utf-8-sig")
    assert "'=SUM(A1:A9)" in raw and "'-10% for magnets" in raw and "''=already quoted" in raw
    assert "\n=" not in raw and ",=" not in raw and ",-10%" not in raw
    assert (tmp_path / "articles.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese
    back_arts, back_segs = read_processed(tmp_path)
    assert list(back_arts["title"]) == tricky
    assert list(back_segs["text"]) == ["+86 10 6512", "-", "''-double", "plain text"]
    assert back_arts["line"].dtype.kind == "i" and back_arts["truncated"].dtype == bool
    assert list(back_segs["segment_id"]) == list(segs["segment_id"])


def test_a_republication_under_another_title_is_reported(tmp_path, root):
    """The same body under a new title is another article id; it is kept, but reported, since
    its segments could be labelled twice and sit on both sides of an article split."""
    from xitu.corpus import ingest

    raw = tmp_path / "raw"
    raw.mkdir()
    lines = (root / "data" / "raw" / "000_5daa9991a6f03c11.txt").read_text(encoding="utf-8").splitlines()
    title, source, body = lines[4], lines[5], lines[6]
    (raw / "a.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (raw / "b.txt").write_text("\n".join(lines[:4] + ["A new headline for the same story", source, body]) + "\n",
                               encoding="utf-8")
    c = ingest(raw)
    dup = [i for i in c.report.issues if "same body as a.txt:5" in i.reason]
    assert len(dup) == 1 and dup[0].file == "b.txt" and dup[0].line == 5
    assert c.articles["title"].str.contains("A new headline").any()  # kept, not dropped


def test_one_article_in_both_chinese_scripts_is_one_article(tmp_path):
    """The same export in Simplified and in Traditional script: one article (the Simplified
    text, whichever file comes first), with a note; before, two articles and two ids."""
    import opencc

    from xitu.corpus import build_corpus

    to_traditional = opencc.OpenCC("s2t").convert

    body = "商务部宣布对部分稀土物项实施出口管制。业内人士表示影响有限。"
    simp = make_export("稀土管制", [("中国发布稀土新规", "环球网· 2025-10-09 11:39", body)])
    (tmp_path / "a_trad.txt").write_text(to_traditional(simp), encoding="utf-8")
    (tmp_path / "b_simp.txt").write_text(simp, encoding="utf-8")
    c = build_corpus([parse_export(tmp_path / "a_trad.txt"), parse_export(tmp_path / "b_simp.txt")])
    assert len(c.articles) == 1 and c.articles.loc[0, "body"] == body
    assert to_traditional(body) != body and "稀土管制" in c.articles.loc[0, "queries"]
    assert any("in the other Chinese script; merged" in i.reason for i in c.report.issues)
    alone = build_corpus([parse_export(tmp_path / "b_simp.txt")])
    assert c.segments["segment_id"].tolist() == alone.segments["segment_id"].tolist()  # labels carry over


def test_invisible_characters_neither_split_articles_outlets_nor_words(tmp_path):
    """Review: a zero-width space in a title (copied from a web page) made the same article in
    two exports two articles, a left-to-right mark made the outlet "\\u200eReuters" another
    outlet than "Reuters", and the tokeniser cut 稀\\u200b土 into 稀, 土."""
    from xitu.corpus import ingest
    from xitu.text import Tokenizer

    head = "Workflow\n稀土管控\nicon\nSearch documents\n"
    art = ("China tightens rare earth exports\n{src}· 2025-08-19 06:32\n"
           "China announced new export controls on rare earths. The US responded with tariffs.\n")
    (tmp_path / "a.txt").write_text(head + art.format(src="Reuters"), encoding="utf-8")
    (tmp_path / "b.txt").write_text(head + art.format(src="\u200eReuters").replace("China tightens", "China\u200b tightens"),
                                    encoding="utf-8")
    corpus = ingest(tmp_path)
    assert len(corpus.articles) == 1 and corpus.report.merged == 1
    assert corpus.articles["source"].tolist() == ["Reuters"]
    assert corpus.articles["title"].tolist() == ["China tightens rare earth exports"]
    assert Tokenizer()("稀\u200b土出口 con\u00adtrols") == Tokenizer()("稀土出口 controls")


def test_mixed_language_body_is_cut_into_one_language_sentences():
    """Review: in a Chinese body, quoted English sentences were not cut at '. ', so two
    English sentences and the next Chinese one became one segment (the unit that is
    labelled); in an English body, Chinese sentences were not cut at 。."""
    from xitu.corpus import split_body

    zh = "中国商务部宣布对稀土实施出口管制。Reuters reported that the US would respond. The EU called for talks. 日本表示关切。"
    assert [s.text for s in split_body(zh, "zh")] == [
        "中国商务部宣布对稀土实施出口管制。", "Reuters reported that the US would respond.", "The EU called for talks.",
        "日本表示关切。"]
    en = "The ministry announced new controls on rare earths today. 商务部表示，这是正常措施。美国表示反对。 Analysts were cautious."
    assert [s.text for s in split_body(en, "en")] == [
        "The ministry announced new controls on rare earths today.", "商务部表示，这是正常措施。", "美国表示反对。",
        "Analysts were cautious."]
    # a Chinese sentence ending in 〇 (the zero of years) or a supplementary ideograph is cut too
    en = "Prices peaked that year. 价格在二〇〇〇。 Then they fell."
    assert [s.text for s in split_body(en, "en")] == ["Prices peaked that year.", "价格在二〇〇〇。", "Then they fell."]
