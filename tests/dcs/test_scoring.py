"""The scoring engine, checked against each data file (property-based) and against worked examples.

The properties recompute every expected score straight from the TOML file (printed option scores,
reversed items, conversion table), so they test the engine against the file rather than against
itself.
"""

from __future__ import annotations

import dataclasses
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigtrain.dcs.measures import DATA_DIR, Measure, library
from vigtrain.dcs.scoring import Flag, ScoringError, score
from vigtrain.errors import DomainError

CODES = list(library())


def _file(code: str) -> dict:
    for path in DATA_DIR.glob("*.toml"):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        if raw["code"] == code:
            return raw
    raise KeyError(code)


RAW = {code: _file(code) for code in CODES}


def _file_score(code: str, number: str, position: int) -> int:
    """An item's score for an answer position, read from the file without the engine's tables."""
    raw = RAW[code]
    item = next(item for item in raw["items"] if item["number"] == number)
    if "options" in item:
        return item["options"][position]["score"]
    scores = [option["score"] for option in raw["options"]]
    if number in raw.get("reverse_items", []):
        return min(scores) + max(scores) - scores[position]
    return scores[position]


def _expected_total(code: str, answers: dict[str, int]) -> tuple[float, float | None]:
    raw = RAW[code]
    scores = [_file_score(code, number, position) for number, position in answers.items()]
    if raw["scoring"]["method"] == "mean":
        return round(sum(scores) / len(scores), 2), None
    conversion = raw["scoring"].get("conversion")
    if conversion:
        table = {point["raw"]: point["converted"] for point in conversion["points"]}
        return table[sum(scores)], float(sum(scores))
    return float(sum(scores)), None


def complete_answers(measure: Measure) -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries(
        {number: st.integers(0, len(scores) - 1) for number, scores in measure.score_table.items()}
    )


measure_codes = st.sampled_from(CODES)


@settings(max_examples=300)
@given(data=st.data(), code=measure_codes)
def test_complete_answers_score_within_range_as_the_file_says(data, code):
    measure = library()[code]
    answers = data.draw(complete_answers(measure))
    result = score(measure, answers)
    total, raw = _expected_total(code, answers)
    assert result.total == total
    assert result.raw == raw
    assert measure.min_score <= result.total <= measure.max_score
    assert result.answered == len(measure.items)
    assert not result.prorated
    assert (result.band is not None) == bool(measure.bands)
    assert set(result.subscales) == {subscale.code for subscale in measure.subscales}
    for subscale in measure.subscales:
        values = [_file_score(code, number, answers[number]) for number in subscale.items]
        expected = sum(values) / len(values) if measure.scoring.method == "mean" else sum(values)
        assert result.subscales[subscale.code] == pytest.approx(expected)


@settings(max_examples=300)
@given(data=st.data(), code=measure_codes)
def test_risk_flags_follow_the_files_rules(data, code):
    measure = library()[code]
    answers = data.draw(complete_answers(measure))
    result = score(measure, answers)
    expected = set()
    for risk in RAW[code].get("risks", []):
        if "item" in risk:
            value = _file_score(code, risk["item"], answers[risk["item"]])
        else:
            value = result.subscales[risk["subscale"]]
        if value >= risk["at_or_above"]:
            expected.add((risk["code"], risk.get("item")))
    assert {(flag.code, flag.item) for flag in result.flags} == expected
    assert all("safeguarding" in flag.message for flag in result.flags)


SUMMED = [code for code in CODES if RAW[code]["scoring"]["method"] == "sum"]


@settings(max_examples=300)
@given(data=st.data(), code=st.sampled_from(SUMMED))
def test_moving_one_answer_moves_the_total_the_way_the_file_scores_it(data, code):
    """Reverse scoring follows the file: the next answer down scores more on a plain item, less on a reversed one."""
    measure = library()[code]
    answers = data.draw(complete_answers(measure))
    number = data.draw(st.sampled_from(measure.item_numbers))
    last = len(measure.score_table[number]) - 1
    position = data.draw(st.integers(0, last - 1))
    before = score(measure, {**answers, number: position})
    after = score(measure, {**answers, number: position + 1})
    step = _file_score(code, number, position + 1) - _file_score(code, number, position)
    raw_before = before.raw if before.raw is not None else before.total
    raw_after = after.raw if after.raw is not None else after.total
    assert raw_after - raw_before == step
    own_options = "options" in next(item for item in RAW[code]["items"] if item["number"] == number)
    if not own_options:
        default_step = RAW[code]["options"][position + 1]["score"] - RAW[code]["options"][position]["score"]
        reversed_item = number in RAW[code].get("reverse_items", [])
        assert step == (-default_step if reversed_item else default_step) != 0
    if step:
        assert (after.total > before.total) == (step > 0)


@settings(max_examples=200)
@given(data=st.data(), code=measure_codes)
def test_missing_answers_follow_the_files_rule(data, code):
    measure = library()[code]
    answers = data.draw(complete_answers(measure))
    dropped = data.draw(st.sets(st.sampled_from(measure.item_numbers), min_size=1))
    partial = {number: (None if number in dropped else position) for number, position in answers.items()}
    rule = RAW[code]["missing"]
    allowed = {
        "refuse": False,
        "prorate": len(dropped) <= rule.get("max_missing", 0) and not dropped & set(rule.get("required", [])),
        "skip": len(answers) - len(dropped) >= rule.get("min_answered", 1),
    }[rule["rule"]]
    if not allowed:
        with pytest.raises(ScoringError):
            score(measure, partial)
        return
    result = score(measure, partial)
    assert result.answered == len(answers) - len(dropped)
    assert result.prorated == (rule["rule"] == "prorate")
    assert measure.min_score <= result.total <= measure.max_score


@given(data=st.data(), code=measure_codes)
def test_positions_that_are_not_options_are_refused_naming_the_item(data, code):
    measure = library()[code]
    answers = data.draw(complete_answers(measure))
    number = data.draw(st.sampled_from(measure.item_numbers))
    bad = data.draw(
        st.one_of(
            st.integers(max_value=-1),
            st.integers(min_value=len(measure.score_table[number])),
            st.booleans(),
            st.floats(allow_nan=True),
            st.text(max_size=3),
        )
    )
    with pytest.raises(ScoringError) as refused:
        score(measure, {**answers, number: bad})
    assert refused.value.field == number


@given(data=st.data(), code=measure_codes, key=st.one_of(st.text(max_size=4), st.integers(), st.none()))
def test_unknown_items_are_refused(data, code, key):
    measure = library()[code]
    if key in measure.score_table or (isinstance(key, int) and str(key) in measure.score_table):
        return
    answers = data.draw(complete_answers(measure))
    with pytest.raises(ScoringError) as refused:
        score(measure, {**answers, key: 0})
    assert refused.value.field == "responses"
    assert isinstance(refused.value, DomainError)


def _prorating_phq9() -> Measure:
    raw = RAW["PHQ-9"] | {
        "missing": {
            "rule": "prorate",
            "max_missing": 1,
            "required": ["9"],
            "note": "Test file: one missing item prorated; item 9 required.",
            "sources": ["arrieta2017"],
        }
    }
    return Measure.model_validate(raw)


@given(answers=complete_answers(library()["PHQ-9"]), missing=st.sampled_from([str(n) for n in range(1, 9)]))
def test_a_file_that_allows_prorating_prorates(answers, missing):
    measure = _prorating_phq9()
    kept = {number: position for number, position in answers.items() if number != missing}
    result = score(measure, {**kept, missing: None})
    assert result.prorated and result.answered == 8
    assert result.total == round(sum(_file_score("PHQ-9", n, p) for n, p in kept.items()) / 8 * 9, 2)
    assert 0 <= result.total <= 27
    assert result.band == measure.band_for(result.total)


def test_prorating_refuses_a_required_item_or_too_many_missing():
    measure = _prorating_phq9()
    answers = {str(n): 1 for n in range(1, 10)}
    with pytest.raises(ScoringError, match="Item 9 must be answered") as refused:
        score(measure, {**answers, "9": None})
    assert refused.value.field == "9"
    with pytest.raises(ScoringError, match="at most 1 missing") as refused:
        score(measure, {k: v for k, v in answers.items() if k not in {"2", "5"}})
    assert refused.value.field == "responses"


def _answer_all(code: str, position: int) -> dict[str, int]:
    return dict.fromkeys(library()[code].item_numbers, position)


def test_phq9_worked_examples():
    """PHQ-9 scoring per Kroenke et al. 2001 and CamCOPS phq9.py: sum of 0-3; >=20 severe, >=15 moderately severe."""
    phq9 = library()["PHQ-9"]
    several_days = score(phq9, _answer_all("PHQ-9", 1))
    assert (several_days.total, several_days.band) == (9, "Mild")
    assert several_days.flags == [Flag("phq9_item9", phq9.risks[0].message, "9")]
    assert score(phq9, _answer_all("PHQ-9", 3)).band == "Severe"
    example = {"1": 2, "2": 2, "3": 3, "4": 2, "5": 1, "6": 2, "7": 1, "8": 1, "9": 0}
    result = score(phq9, example)
    assert (result.total, result.band, result.flags) == (14, "Moderate", [])
    assert score(phq9, {**example, "3": 0, "1": 1}).band == "Moderate"  # 10: the threshold itself
    assert score(phq9, {**example, "3": 0, "1": 0}).band == "Mild"
    with pytest.raises(ScoringError, match=r"Item 4 is not answered\. PHQ-9 can only be scored") as refused:
        score(phq9, {k: v for k, v in example.items() if k != "4"})
    assert refused.value.field == "4"
    with pytest.raises(ScoringError, match="Items 4 and 7 are not answered") as refused:
        score(phq9, {**example, "4": None, "7": None})
    assert refused.value.field == "responses"


def test_gad7_worked_examples():
    """GAD-7 bands per Spitzer et al. 2006 and CamCOPS gad7.py: >=15 severe, >=10 moderate, >=5 mild."""
    gad7 = library()["GAD-7"]
    assert score(gad7, _answer_all("GAD-7", 2)).total == 14
    assert score(gad7, _answer_all("GAD-7", 2)).band == "Moderate"
    assert score(gad7, {**_answer_all("GAD-7", 2), "1": 3}).band == "Severe"
    assert score(gad7, _answer_all("GAD-7", 0)).band == "None to minimal"
    assert score(gad7, _answer_all("GAD-7", 3)).flags == []


def test_epds_worked_examples():
    """EPDS per Cox et al. 1987 (and HBCD docs): items 1, 2, 4 score 0-3 in printed order, items 3, 5-10 score 3-0."""
    epds = library()["EPDS"]
    first_printed = score(epds, _answer_all("EPDS", 0))
    assert first_printed.total == 21 and first_printed.band == "Likely depression"
    assert [flag.item for flag in first_printed.flags] == ["10"]
    last_printed = score(epds, _answer_all("EPDS", 3))
    assert last_printed.total == 9 and last_printed.band == "Below the screening threshold"
    assert last_printed.flags == []
    assert [flag.code for flag in score(epds, {**_answer_all("EPDS", 3), "10": 2}).flags] == ["epds_item10"]


def test_wemwbs_and_swemwbs_worked_examples():
    """WEMWBS sums 14 items scored 1-5 (Tennant et al. 2007); SWEMWBS converts raw to metric with Warwick's table."""
    assert score(library()["WEMWBS"], _answer_all("WEMWBS", 2)).total == 42
    assert score(library()["WEMWBS"], _answer_all("WEMWBS", 4)).total == 70
    swemwbs = library()["SWEMWBS"]
    raw_29 = score(swemwbs, {"1": 4, "2": 3, "3": 3, "4": 3, "5": 3, "6": 3, "7": 3})
    assert (raw_29.raw, raw_29.total) == (29, 26.02)
    assert (score(swemwbs, _answer_all("SWEMWBS", 0)).total, score(swemwbs, _answer_all("SWEMWBS", 4)).total) == (7, 35)
    assert score(swemwbs, {**_answer_all("SWEMWBS", 2), "1": 1}).total == 18.59  # raw 20
    assert score(swemwbs, _answer_all("SWEMWBS", 2)).total == 19.25  # raw 21


def test_kpcs_worked_examples():
    """KPCS manual (Črnčec et al. 2008): first printed answer 0 ... fourth 3; 'not applicable' (items 1, 9) is 2."""
    kpcs = library()["KPCS"]
    assert score(kpcs, _answer_all("KPCS", 3)).total == 45
    assert score(kpcs, {**_answer_all("KPCS", 3), "1": 4, "9": 4}).total == 43
    assert score(kpcs, {**_answer_all("KPCS", 0), "1": 4}).total == 2
    with pytest.raises(ScoringError) as refused:
        score(kpcs, {**_answer_all("KPCS", 3), "2": 4})
    assert refused.value.field == "2"


def test_pbq_worked_examples():
    """PBQ per Brockington et al. 2001/2006 and CamCOPS pbq.py: 8 positive items score Always 0 ... Never 5."""
    pbq = library()["PBQ"]
    always = score(pbq, _answer_all("PBQ", 0))
    assert always.total == 85
    assert always.subscales == {
        "impaired_bonding": 40,
        "rejection_anger": 25,
        "infant_anxiety": 10,
        "risk_of_abuse": 10,
    }
    assert [flag.code for flag in always.flags] == ["pbq_risk_of_abuse"] and always.flags[0].item is None
    never = score(pbq, _answer_all("PBQ", 5))
    assert never.total == 40 and never.subscales["risk_of_abuse"] == 0 and never.flags == []
    rarely_harmful = {**_answer_all("PBQ", 5), "18": 4}
    assert score(pbq, rarely_harmful).flags == []
    assert [flag.code for flag in score(pbq, {**rarely_harmful, "24": 4}).flags] == ["pbq_risk_of_abuse"]


def test_gbo_and_vig_scaling_worked_examples():
    """GBO (Law & Jacob; CamCOPS gbo.py): 1-3 goals rated 0-10; vigtrain reports their mean and each goal."""
    gbo = library()["GBO"]
    two_goals = score(gbo, {"1": 2, "2": None, "3": 5})
    assert (two_goals.total, two_goals.subscales, two_goals.answered) == (3.5, {"goal_1": 2, "goal_3": 5}, 2)
    assert not two_goals.prorated
    assert score(gbo, {"1": 7, "2": 8, "3": 8}).total == 7.67
    assert score(gbo, {"2": 10}).total == 10
    with pytest.raises(ScoringError, match="Answer at least 1 of Goal 1, Goal 2 or Goal 3") as refused:
        score(gbo, {"1": None})
    assert refused.value.field == "responses"
    vig = library()["VIG-SCALING"]
    assert (score(vig, {"1": 0}).total, score(vig, {"1": 9}).total) == (1, 10)
    with pytest.raises(ScoringError):
        score(vig, {})


def test_integer_item_keys_are_accepted_and_scores_are_immutable():
    result = score(library()["GAD-7"], dict.fromkeys(range(1, 8), 1))
    assert result.total == 7
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.total = 8


def test_messages_name_items_by_their_labels_where_they_have_them():
    raw = library()["GBO"].model_dump(by_alias=True)
    raw["missing"] = {"rule": "refuse", "note": "Test file: every goal required.", "sources": ["camcops"]}
    every_goal = Measure.model_validate(raw)
    with pytest.raises(ScoringError, match=r"^Goal 1 and Goal 3 are not answered") as refused:
        score(every_goal, {"2": 3})
    assert refused.value.field == "responses"
    with pytest.raises(ScoringError, match=r"^Choose one of the answers for Goal 2$"):
        score(every_goal, {"1": 1, "2": 11, "3": 1})
