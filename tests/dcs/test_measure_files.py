"""Measure files: the shipped ones load with the verified facts; a malformed one is refused by file and field."""

from __future__ import annotations

import re
import shutil

import pytest

from vigtrain.dcs.measures import DATA_DIR, MeasureFileError, get_measure, library, load_library, load_measures

SHIPPED = ["PHQ-9", "GAD-7", "EPDS", "WEMWBS", "SWEMWBS", "KPCS", "PBQ", "GBO", "VIG-SCALING"]


def _copy_data(tmp_path):
    folder = tmp_path / "measures"
    shutil.copytree(DATA_DIR, folder)
    return folder


def _edit(folder, name: str, old: str, new: str, count: int = 1) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _refusal(folder) -> str:
    with pytest.raises(MeasureFileError) as refused:
        load_library(folder)
    return str(refused.value)


def test_every_shipped_measure_loads_in_display_order():
    measures = library()
    assert list(measures) == SHIPPED
    assert all(measure.version == "1" for measure in measures.values())
    assert library() is measures
    assert get_measure("phq-9") is measures["PHQ-9"]
    assert get_measure(" Vig-Scaling ") is measures["VIG-SCALING"]
    assert get_measure("PHQ-9", version="1") == measures["PHQ-9"]
    assert get_measure("PHQ-9", version="2") is None
    assert get_measure("SDQ") is None
    assert get_measure(None) is None


def test_shipped_figures_match_the_verified_reference():
    m = library()
    assert (m["PHQ-9"].min_score, m["PHQ-9"].max_score, m["PHQ-9"].caseness.threshold) == (0, 27, 10)
    assert (m["GAD-7"].max_score, m["GAD-7"].caseness.threshold) == (21, 8)
    assert (m["PHQ-9"].reliable_change, m["GAD-7"].reliable_change, m["EPDS"].reliable_change) == (6, 4, 4)
    assert m["EPDS"].reverse_items == ("3", "5", "6", "7", "8", "9", "10")
    assert m["EPDS"].caseness.threshold == 13
    assert (m["WEMWBS"].min_score, m["WEMWBS"].max_score) == (14, 70)
    assert m["SWEMWBS"].reliable_change == 2.87
    assert m["SWEMWBS"].conversion_table[7] == 7.0 and m["SWEMWBS"].conversion_table[35] == 35.0
    assert sorted(m["SWEMWBS"].conversion_table) == list(range(7, 36))
    assert (m["KPCS"].max_score, m["KPCS"].caseness.threshold, m["KPCS"].caseness.direction) == (45, 39, "at_or_below")
    assert m["PBQ"].reverse_items == ("1", "4", "8", "9", "11", "16", "22", "25")
    scales = {s.code: (len(s.items), s.high_at_or_above) for s in m["PBQ"].subscales}
    assert scales == {
        "impaired_bonding": (12, 12),
        "rejection_anger": (7, 13),
        "infant_anxiety": (4, 10),
        "risk_of_abuse": (2, 2),
    }
    assert (m["GBO"].scoring.method, len(m["GBO"].items), m["GBO"].max_score) == ("mean", 3, 10)
    assert (m["VIG-SCALING"].min_score, m["VIG-SCALING"].max_score) == (1, 10)


def test_risk_items_and_licences():
    m = library()
    risks = {code: [(r.item, r.subscale, r.at_or_above) for r in measure.risks] for code, measure in m.items()}
    assert risks["PHQ-9"] == [("9", None, 1)]
    assert risks["EPDS"] == [("10", None, 1)]
    assert risks["PBQ"] == [(None, "risk_of_abuse", 2)]
    assert all(not risks[code] for code in ("GAD-7", "WEMWBS", "SWEMWBS", "KPCS", "GBO", "VIG-SCALING"))
    assert all("safeguarding" in r.message for measure in m.values() for r in measure.risks)
    for code in ("EPDS", "WEMWBS", "SWEMWBS", "KPCS", "PBQ"):
        assert not m[code].item_text_allowed
        assert all(item.text is None for item in m[code].items)
    for code in ("PHQ-9", "GAD-7"):
        assert all(item.text for item in m[code].items)
        assert "No permission is required" in m[code].licence


def test_not_applicable_only_on_kpcs_items_1_and_9():
    kpcs = library()["KPCS"]
    with_na = {
        item.number for item in kpcs.items if any(o.label == "Not applicable" for o in kpcs.options_for(item.number))
    }
    assert with_na == {"1", "9"}
    assert [o.score for o in kpcs.options_for("9")] == [0, 1, 2, 3, 2]


def test_every_figure_cites_a_listed_source_and_unverified_figures_say_so():
    for measure in library().values():
        keys = {source.key for source in measure.sources}
        assert set(measure.reliable_change_basis.sources) <= keys
        assert measure.reliable_change_basis.note
    statuses = {code: measure.reliable_change_basis.status for code, measure in library().items()}
    assert statuses["PBQ"] == statuses["GBO"] == statuses["VIG-SCALING"] == "provisional"
    assert statuses["KPCS"] == statuses["WEMWBS"] == "derived"


MALFORMED = [
    pytest.param(
        "phq-9.toml",
        "min = 5\n",
        "min = 6\n",
        "phq-9.toml: banding.bands: 'None to minimal' and 'Mild' leave a gap",
        id="band-gap",
    ),
    pytest.param(
        "phq-9.toml",
        "min = 5\n",
        "min = 4\n",
        "phq-9.toml: banding.bands: 'None to minimal' and 'Mild' overlap",
        id="band-overlap",
    ),
    pytest.param(
        "phq-9.toml",
        'number = "3"\n',
        'number = "3"\ncolour = "blue"\n',
        "phq-9.toml: items[3] (3).colour: Extra inputs are not permitted",
        id="unknown-field",
    ),
    pytest.param(
        "gad-7.toml", 'direction = "higher_is_worse"\n', "", "gad-7.toml: direction: Field required", id="missing-field"
    ),
    pytest.param(
        "phq-9.toml",
        "threshold = 10\n",
        "threshold = 28\n",
        "phq-9.toml: caseness.threshold: must lie within 0 to 27",
        id="caseness-range",
    ),
    pytest.param(
        "kpcs.toml",
        'direction = "at_or_below"',
        'direction = "at_or_above"',
        "kpcs.toml: caseness.direction: must be 'at_or_below' where higher is better",
        id="caseness-direction",
    ),
    pytest.param(
        "epds.toml",
        '"9", "10"]',
        '"9", "10", "11"]',
        "epds.toml: reverse_items: lists items that do not exist: 11",
        id="reverse-unknown",
    ),
    pytest.param(
        "phq-9.toml",
        '{ label = "Not at all", score = 0 }',
        '{ label = "Not at all", score = "0" }',
        "phq-9.toml: options[1] (Not at all).score: Input should be a valid integer",
        id="score-as-text",
    ),
    pytest.param(
        "phq-9.toml",
        "max_score = 27\n",
        "max_score = 28\n",
        "phq-9.toml: scoring.min_score/max_score: 0 to 28 does not match the options, which give 0 to 27",
        id="range-mismatch",
    ),
    pytest.param(
        "epds.toml",
        '{ number = "2" },',
        '{ number = "2", text = "Reworded item" },',
        "epds.toml: items: the licence does not allow item wording",
        id="licensed-text",
    ),
    pytest.param(
        "phq-9.toml",
        'item = "9"',
        'item = "10"',
        "phq-9.toml: risks[1] (phq9_item9).item: item 10 does not exist",
        id="risk-item-unknown",
    ),
    pytest.param(
        "phq-9.toml",
        'sources = ["nhstt", "gyani2013", "kroenke2010"]',
        'sources = ["nhstt", "nobody"]',
        "phq-9.toml: caseness.sources: cites sources not listed in [[sources]]: nobody",
        id="unknown-source",
    ),
    pytest.param(
        "swemwbs.toml",
        "    { raw = 20, converted = 18.59 },\n",
        "",
        "swemwbs.toml: scoring.conversion.points: need each raw score 7 to 35 in order",
        id="conversion-gap",
    ),
    pytest.param(
        "swemwbs.toml",
        "converted = 18.59",
        "converted = 17.00",
        "swemwbs.toml: scoring.conversion.points: converted scores must rise",
        id="conversion-falls",
    ),
    pytest.param(
        "pbq.toml",
        'items = ["18", "24"]',
        'items = ["18", "26"]',
        "pbq.toml: subscales[4] (risk_of_abuse).items: lists items that do not exist: 26",
        id="subscale-unknown",
    ),
    pytest.param(
        "gad-7.toml",
        'number = "7"',
        'number = "8"',
        "gad-7.toml: items: must be numbered 1 to 7 in order; found 1, 2, 3, 4, 5, 6, 8",
        id="item-numbering",
    ),
    pytest.param(
        "gad-7.toml",
        'rule = "refuse"\n',
        'rule = "refuse"\nmax_missing = 1\n',
        "gad-7.toml: missing: 'refuse' allows no missing items",
        id="refuse-with-missing",
    ),
    pytest.param(
        "gbo.toml",
        "max_missing = 2",
        "max_missing = 1",
        "gbo.toml: missing.max_missing: for 'skip' it must be the number of items minus min_answered",
        id="skip-inconsistent",
    ),
    pytest.param(
        "phq-9.toml",
        "min = 5\n",
        'min = "5"\n',
        "phq-9.toml: banding.bands[2] (Mild).min: Input should be a valid integer",
        id="nested-table-field",
    ),
    pytest.param(
        "swemwbs.toml",
        "converted = 18.59",
        'converted = "18.59"',
        "swemwbs.toml: scoring.conversion.points[14].converted: Input should be a valid number",
        id="conversion-point-field",
    ),
    pytest.param(
        "pbq.toml",
        'subscale = "risk_of_abuse"',
        'subscale = "risk_of_abuse"\nitem = "18"',
        "pbq.toml: risks[1] (pbq_risk_of_abuse): a risk rule names either 'item' or 'subscale', not both",
        id="risk-both-targets",
    ),
    pytest.param(
        "vig-scaling.toml",
        'version = "1"',
        'version = "one"',
        "vig-scaling.toml: version: String should match pattern",
        id="bad-version",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "expected"), MALFORMED)
def test_malformed_file_is_refused_naming_file_and_field(tmp_path, name, old, new, expected):
    folder = _copy_data(tmp_path)
    _edit(folder, name, old, new)
    assert expected in _refusal(folder)


def test_problems_in_several_files_are_reported_together(tmp_path):
    folder = _copy_data(tmp_path)
    _edit(folder, "phq-9.toml", "max_score = 27\n", "max_score = 28\n")
    _edit(folder, "gbo.toml", 'code = "GBO"', 'code = "gbo"')
    message = _refusal(folder)
    assert "phq-9.toml: scoring.min_score/max_score" in message
    assert "gbo.toml: code: String should match pattern" in message


def test_invalid_toml_is_named(tmp_path):
    folder = _copy_data(tmp_path)
    (folder / "broken.toml").write_text("code = [unclosed", encoding="utf-8")
    assert "broken.toml: not valid TOML" in _refusal(folder)


def test_a_version_defined_twice_is_refused(tmp_path):
    folder = _copy_data(tmp_path)
    shutil.copy(folder / "gad-7.toml", folder / "gad-7-copy.toml")
    assert "GAD-7 version 1 is defined twice" in _refusal(folder)


def test_a_new_version_loads_beside_the_old_and_becomes_current(tmp_path):
    folder = _copy_data(tmp_path)
    text = (folder / "gad-7.toml").read_text(encoding="utf-8")
    (folder / "gad-7-v2.toml").write_text(re.sub(r'version = "1"', 'version = "2"', text), encoding="utf-8")
    versions = sorted((m.code, m.version) for m in load_measures(folder) if m.code == "GAD-7")
    assert versions == [("GAD-7", "1"), ("GAD-7", "2")]
    assert load_library(folder)["GAD-7"].version == "2"
    assert list(load_library(folder)) == SHIPPED


def test_an_empty_directory_gives_an_empty_library(tmp_path):
    assert load_library(tmp_path) == {}
