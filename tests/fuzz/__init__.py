"""Fuzzing: generated requests to every form (tests/fuzz/test_forms.py) and every API operation
(tests/api/test_schemathesis.py), with one setting for how many examples each gets.

VIGTRAIN_FUZZ_EXAMPLES sets the number; without it CI (CI=true) sends 200 per form and per
operation, and a local run 25, so the suite stays quick at a desk while CI searches properly.
"""

from __future__ import annotations

import os

IN_CI = os.environ.get("CI") == "true"
EXAMPLES = int(os.environ.get("VIGTRAIN_FUZZ_EXAMPLES") or (200 if IN_CI else 25))
