"""Change classification as NHS Talking Therapies do it: reliable change, recovery, reliable recovery."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigtrain.dcs.measures import library
from vigtrain.dcs.outcomes import Change, Classification, classify
from vigtrain.dcs.scoring import ScoringError

IMPROVED = Classification.RELIABLE_IMPROVEMENT
SAME = Classification.NO_RELIABLE_CHANGE
WORSE = Classification.RELIABLE_DETERIORATION


def _classify(code: str, pre: float, post: float) -> Change:
    return classify(library()[code], pre, post)


def test_phq9_examples():
    """NHS Talking Therapies: reliable improvement is a fall of 6 or more; recovery is moving from 10+ to below 10."""
    assert _classify("PHQ-9", 18, 9) == Change(18, 9, -9, IMPROVED, True, True, False)
    assert _classify("PHQ-9", 12, 8) == Change(12, 8, -4, SAME, True, False, False)
    assert _classify("PHQ-9", 16, 10).classification is IMPROVED  # exactly 6 counts
    assert _classify("PHQ-9", 16, 11).classification is SAME
    assert _classify("PHQ-9", 16, 10).still_at_caseness is True
    assert _classify("PHQ-9", 16, 10).reliable_recovery is False
    assert _classify("PHQ-9", 4, 12) == Change(4, 12, 8, WORSE, False, False, True)
    assert _classify("PHQ-9", 8, 2).recovery is False  # not a case at the start, so nothing to recover from


def test_gad7_examples():
    """NHS Talking Therapies: reliable improvement is a fall of 4 or more; caseness 8 or more."""
    assert _classify("GAD-7", 10, 6) == Change(10, 6, -4, IMPROVED, True, True, False)
    assert _classify("GAD-7", 10, 7).classification is SAME
    assert _classify("GAD-7", 10, 7).recovery is True
    assert _classify("GAD-7", 3, 7).classification is WORSE


def test_epds_examples():
    """EPDS: reliable change 4 points (Matthey 2004); caseness 13 or more (Cox et al. 1987)."""
    assert _classify("EPDS", 15, 11) == Change(15, 11, -4, IMPROVED, True, True, False)
    assert _classify("EPDS", 15, 13) == Change(15, 13, -2, SAME, False, False, True)
    assert _classify("EPDS", 8, 12).classification is WORSE


def test_wellbeing_measures_improve_upwards_and_have_no_recovery():
    """WEMWBS and SWEMWBS: higher is better, no clinical cut-off (so recovery is None)."""
    assert _classify("WEMWBS", 40, 50) == Change(40, 50, 10, IMPROVED, None, None, None)
    assert _classify("WEMWBS", 50, 40).classification is WORSE
    assert _classify("WEMWBS", 40, 48).classification is SAME  # 8 < 8.59
    assert _classify("SWEMWBS", 23.15, 26.02).classification is IMPROVED  # exactly 2.87, despite float error
    assert _classify("SWEMWBS", 23.21, 26.02).classification is SAME
    assert _classify("SWEMWBS", 26.02, 23.15).classification is WORSE


def test_kpcs_recovery_is_upwards_through_the_cut_off():
    """KPCS: 39 or less suggests low confidence; recovery is 39 or less before and 40 or more after."""
    assert _classify("KPCS", 35, 42) == Change(35, 42, 7, IMPROVED, True, True, False)
    assert _classify("KPCS", 35, 41) == Change(35, 41, 6, SAME, True, False, False)
    assert _classify("KPCS", 42, 35) == Change(42, 35, -7, WORSE, False, False, True)


def test_goal_and_scaling_changes():
    """GBO: improvement is an increase of 2.45 or more in the mean goal rating."""
    assert _classify("GBO", 3, 6).classification is IMPROVED
    assert _classify("GBO", 3.33, 5.67).classification is SAME
    assert _classify("GBO", 3, 6).recovery is None
    assert _classify("VIG-SCALING", 4, 7).classification is IMPROVED
    assert _classify("VIG-SCALING", 7, 4).classification is WORSE


def test_out_of_range_scores_are_refused():
    with pytest.raises(ScoringError) as refused:
        _classify("PHQ-9", 28, 3)
    assert refused.value.field == "pre"
    with pytest.raises(ScoringError) as refused:
        _classify("WEMWBS", 40, 10)
    assert refused.value.field == "post"


def _scores(code: str) -> st.SearchStrategy[float]:
    measure = library()[code]
    return st.integers(int(measure.min_score * 100), int(measure.max_score * 100)).map(lambda n: n / 100)


@given(data=st.data(), code=st.sampled_from(list(library())))
def test_classification_properties(data, code):
    measure = library()[code]
    pre, post = data.draw(_scores(code)), data.draw(_scores(code))
    forward, backward = classify(measure, pre, post), classify(measure, post, pre)
    assert forward.change == pytest.approx(post - pre, abs=1e-6)
    mirror = {IMPROVED: WORSE, WORSE: IMPROVED, SAME: SAME}
    assert backward.classification is mirror[forward.classification]
    better = post - pre if measure.higher_is_better else pre - post
    if abs(better) < measure.reliable_change - 1e-6:
        assert forward.classification is SAME
    elif better > 0:
        assert forward.classification is IMPROVED
    else:
        assert forward.classification is WORSE
    if measure.caseness is None:
        assert forward.recovery is forward.reliable_recovery is forward.still_at_caseness is None
    else:
        assert forward.still_at_caseness == measure.is_case(post)
        assert forward.recovery == (measure.is_case(pre) and not measure.is_case(post))
        assert forward.reliable_recovery == (forward.recovery and forward.classification is IMPROVED)
        assert not (forward.recovery and backward.recovery)
    assert forward.label in {"Reliable improvement", "No reliable change", "Reliable deterioration"}
