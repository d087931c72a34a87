"""The measure objects: options in presented order with per-item scores, caseness, bands and lookups."""

from __future__ import annotations

import tomllib

import pytest
from pydantic import ValidationError

from vigtrain.dcs.measures import DATA_DIR, Measure, library


def _raw(name: str) -> dict:
    return tomllib.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def test_options_are_in_presented_order_with_each_items_scores():
    epds = library()["EPDS"]
    assert [o.label for o in epds.options_for("1")] == [o.label for o in epds.options_for("3")]
    assert [o.score for o in epds.options_for("1")] == [0, 1, 2, 3]
    assert [o.score for o in epds.options_for("3")] == [3, 2, 1, 0]
    assert [o.score for o in epds.options_for("4")] == [0, 1, 2, 3]
    assert [o.score for o in epds.options_for("10")] == [3, 2, 1, 0]
    pbq = library()["PBQ"]
    assert [o.label for o in pbq.options_for("1")][:2] == ["Always", "Very often"]
    assert [o.score for o in pbq.options_for("1")] == [0, 1, 2, 3, 4, 5]
    assert [o.score for o in pbq.options_for("2")] == [5, 4, 3, 2, 1, 0]
    assert [o.score for o in library()["VIG-SCALING"].options_for("1")] == list(range(1, 11))


def test_score_table_matches_options_for_every_item_of_every_measure():
    for measure in library().values():
        assert tuple(measure.score_table) == measure.item_numbers
        for number, scores in measure.score_table.items():
            assert scores == tuple(option.score for option in measure.options_for(number))


def test_caseness_follows_the_measures_direction():
    m = library()
    assert m["PHQ-9"].is_case(10) and not m["PHQ-9"].is_case(9)
    assert m["GAD-7"].is_case(8) and not m["GAD-7"].is_case(7.5)
    assert m["EPDS"].is_case(13) and not m["EPDS"].is_case(12)
    assert m["KPCS"].is_case(39) and not m["KPCS"].is_case(40)
    assert m["WEMWBS"].is_case(20) is None
    assert m["GBO"].is_case(5) is None


def test_bands_cover_the_range_and_prorated_totals_take_the_lower_band():
    phq9 = library()["PHQ-9"]
    assert [phq9.band_for(score) for score in (0, 4, 5, 9, 10, 14, 15, 19, 20, 27)] == [
        "None to minimal",
        "None to minimal",
        "Mild",
        "Mild",
        "Moderate",
        "Moderate",
        "Moderately severe",
        "Moderately severe",
        "Severe",
        "Severe",
    ]
    assert phq9.band_for(9.5) == "Mild"
    assert library()["EPDS"].band_for(12) == "Possible depression"
    assert library()["SWEMWBS"].band_for(20) is None


def test_subscale_cut_offs():
    scales = {s.code: s for s in library()["PBQ"].subscales}
    assert scales["risk_of_abuse"].is_high(2) and not scales["risk_of_abuse"].is_high(1)
    assert scales["impaired_bonding"].is_high(12) and not scales["impaired_bonding"].is_high(11)
    assert {s.code: s.is_high(4) for s in library()["GBO"].subscales} == dict.fromkeys(
        ("goal_1", "goal_2", "goal_3"), None
    )


def test_item_titles_fall_back_to_labels_then_numbers():
    assert library()["PHQ-9"].items[0].title == "Little interest or pleasure in doing things"
    assert library()["GBO"].items[1].label == "Goal 2"
    assert library()["EPDS"].items[9].title == "Item 10"


def test_measures_are_immutable_and_have_a_stable_checksum():
    phq9 = library()["PHQ-9"]
    with pytest.raises(ValidationError):
        phq9.version = "2"
    again = Measure.model_validate(_raw("phq-9.toml"))
    assert again.checksum() == phq9.checksum()
    changed = _raw("phq-9.toml")
    changed["caseness"]["note"] = "A different note"
    assert Measure.model_validate(changed).checksum() != phq9.checksum()


def test_file_shape_round_trips_through_the_alias():
    dumped = library()["GAD-7"].model_dump(by_alias=True)
    assert dumped["reliable_change"]["points"] == 4
    assert Measure.model_validate(dumped) == library()["GAD-7"]
