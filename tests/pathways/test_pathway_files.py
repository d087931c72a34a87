"""Pathway files: the shipped ones load; a malformed one is refused by name and nothing loads."""

from __future__ import annotations

import shutil

from sqlalchemy import func, select

from vigtrain.extensions import db
from vigtrain.pathways.definitions import DATA_DIR, load_pathway_files, principles
from vigtrain.pathways.models import PathwayVersion

SHIPPED = {
    ("vig-practitioner", "2024.1"),
    ("vig-practitioner", "2015.1"),
    ("verp-practitioner", "2024.1"),
    ("vig-supervisor", "2024.1"),
}


def _copy_data(tmp_path):
    folder = tmp_path / "pathways"
    shutil.copytree(DATA_DIR, folder)
    return folder


def _versions() -> int:
    return db.session.scalar(select(func.count()).select_from(PathwayVersion))


def test_shipped_pathways_and_principles_load():
    pathways = {(p.code, p.version): p for p in load_pathway_files()}
    assert set(pathways) == SHIPPED
    current = pathways[("vig-practitioner", "2024.1")]
    figures = {s.code: {r.kind.value: r.target for r in s.active_requirements} for s in current.stages}
    assert figures["stage-1"]["cycles"] == 6 and figures["stage-1"]["new_clients"] == 2
    assert figures["stage-1"]["supervision_hours"] == 7
    assert figures["stage-2"]["cycles"] == 9 and figures["stage-2"]["supervision_hours"] == 8
    assert figures["stage-3"]["cycles"] == 12 and figures["stage-3"]["new_clients"] == 3
    assert sum(f.get("cycles", 0) for f in figures.values()) == 27
    assert sum(f.get("supervision_hours", 0) for f in figures.values()) == 23
    assert pathways[("vig-supervisor", "2024.1")].is_provisional
    assert principles().principles[0].name == "Being attentive"
    assert all(4 <= len(p.descriptors) <= 6 for p in principles().principles)


def test_sync_loads_once_and_reports(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["pathways", "sync"])
    assert first.exit_code == 0, first.output
    assert "4 new, 0 already loaded" in first.output
    again = runner.invoke(args=["pathways", "sync"])
    assert "0 new, 4 already loaded" in again.output
    assert _versions() == 4


def test_malformed_file_is_refused_naming_file_stage_and_field(app, tmp_path):
    folder = _copy_data(tmp_path)
    path = folder / "vig-practitioner-2024.toml"
    path.write_text(path.read_text().replace("target = 6", "target = -6", 1))
    result = app.test_cli_runner().invoke(args=["pathways", "sync", "--directory", str(folder)])
    assert result.exit_code != 0
    assert "Nothing was loaded" in result.output
    assert "vig-practitioner-2024.toml: stage 2 (stage-1), requirement 1 (cycles), target" in result.output
    assert _versions() == 0


def test_unknown_field_and_missing_field_are_named(app, tmp_path):
    folder = _copy_data(tmp_path)
    path = folder / "verp-practitioner-2024.toml"
    text = path.read_text().replace('credential = "Accredited VERP Practitioner"\n', "")
    path.write_text(text.replace("typical_months = 9", "typical_months = 9\ncolour = 'blue'", 1))
    result = app.test_cli_runner().invoke(args=["pathways", "sync", "--directory", str(folder)])
    assert "verp-practitioner-2024.toml: credential: Field required" in result.output
    assert "stage 2 (practice), colour: Extra inputs are not permitted" in result.output
    assert _versions() == 0


def test_a_loaded_version_cannot_change(app, tmp_path):
    runner = app.test_cli_runner()
    runner.invoke(args=["pathways", "sync"])
    folder = _copy_data(tmp_path)
    path = folder / "vig-practitioner-2024.toml"
    path.write_text(path.read_text().replace("target = 9", "target = 10", 1))
    result = runner.invoke(args=["pathways", "sync", "--directory", str(folder)])
    assert result.exit_code != 0
    assert "vig-practitioner version 2024.1 is already loaded and cannot change" in result.output


def test_a_new_version_loads_beside_the_old(app, tmp_path):
    runner = app.test_cli_runner()
    runner.invoke(args=["pathways", "sync"])
    folder = _copy_data(tmp_path)
    source = (folder / "vig-practitioner-2024.toml").read_text()
    (folder / "vig-practitioner-2027.toml").write_text(source.replace('version = "2024.1"', 'version = "2027.1"'))
    result = runner.invoke(args=["pathways", "sync", "--directory", str(folder)])
    assert "Loaded vig-practitioner version 2027.1" in result.output
    assert _versions() == 5


def test_invalid_toml_is_named(app, tmp_path):
    folder = _copy_data(tmp_path)
    (folder / "broken.toml").write_text("code = [unclosed")
    result = app.test_cli_runner().invoke(args=["pathways", "sync", "--directory", str(folder)])
    assert "broken.toml: not valid TOML" in result.output
    assert _versions() == 0


def test_a_new_version_can_require_paired_outcome_data(app, tmp_path):
    folder = _copy_data(tmp_path)
    path = folder / "vig-practitioner-2024.toml"
    text = path.read_text().replace("enabled = false", "enabled = true").replace('"2024.1"', '"2024.2"', 1)
    path.write_text(text)
    result = app.test_cli_runner().invoke(args=["pathways", "sync", "--directory", str(folder)])
    assert result.exit_code == 0, result.output
    version = db.session.scalar(select(PathwayVersion).where(PathwayVersion.version == "2024.2"))
    stage = version.definition.stages[-1]
    assert "dcs_paired_cases" in {requirement.kind.value for requirement in stage.active_requirements}
