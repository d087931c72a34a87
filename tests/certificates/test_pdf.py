"""The certificate PDF: its text, metadata, QR code, and identical regeneration from stored data."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import replace
from datetime import date

import pytest
from pypdf import PdfReader

from tests.certificate_factories import issue, make_certificate, make_earned_record
from tests.factories import make_admin, make_user
from vigtrain.certificates import services
from vigtrain.certificates.pdf import CertificateData, CertificatePDF

DATA = CertificateData(
    number="AV-7K2M-9QXD",
    accreditation=True,
    holder_name="Łukasz Nguyễn-Şükrü",
    credential="Accredited VIG Practitioner",
    pathway_title="VIG Practitioner",
    pathway_version="2024.1",
    issued_on=date(2026, 3, 2),
    valid_until=date(2029, 3, 1),
    issuer_name="Association for Video Interaction Guidance UK (AVIGuk)",
    signatory_name="Dr Ann Example",
    signatory_title="Chair of the Accreditation Panel",
    verify_url="https://vigtrain.example.org/verify/AV-7K2M-9QXD",
)


def text_of(document: bytes) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(document)).pages)


def tools_or_skip() -> None:
    missing = [tool for tool in ("pdftoppm", "zbarimg") if shutil.which(tool) is None]
    if missing:
        message = f"needs {' and '.join(missing)} (Debian: poppler-utils, zbar-tools)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"required in CI but unavailable: {message}")
        pytest.skip(message)


def decode_qr(document: bytes, tmp_path) -> list[str]:
    source = tmp_path / "certificate.pdf"
    source.write_bytes(document)
    pdftoppm, zbarimg = shutil.which("pdftoppm"), shutil.which("zbarimg")
    subprocess.run([pdftoppm, "-r", "150", "-png", str(source), str(tmp_path / "page")], check=True)
    image = next(tmp_path.glob("page*.png"))
    result = subprocess.run([zbarimg, "--raw", "-q", str(image)], capture_output=True, text=True, check=False)
    return result.stdout.split()


def test_one_landscape_a4_page_with_holder_number_and_dates():
    document = CertificatePDF(DATA).render()
    reader = PdfReader(io.BytesIO(document))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    text = text_of(document)
    for expected in (
        "Certificate of Accreditation",
        "Łukasz Nguyễn-Şükrü",
        "Accredited VIG Practitioner",
        "AV-7K2M-9QXD",
        "2 March 2026",
        "1 March 2029",
        "Dr Ann Example",
        "Chair of the Accreditation Panel",
        "Association for Video Interaction Guidance UK (AVIGuk)",
        "VIG Practitioner pathway (version 2024.1)",
    ):
        assert expected in text, expected


def test_metadata_names_the_certificate_and_the_issuer():
    metadata = PdfReader(io.BytesIO(CertificatePDF(DATA).render())).metadata
    assert metadata.title == "Accredited VIG Practitioner: Łukasz Nguyễn-Şükrü"
    assert metadata.author == "Association for Video Interaction Guidance UK (AVIGuk)"
    assert "AV-7K2M-9QXD" in metadata.subject and DATA.verify_url in metadata.subject


def test_a_stage_certificate_says_it_is_not_an_accreditation():
    stage = replace(DATA, accreditation=False, credential="Stage 1 of the VIG Practitioner pathway", valid_until=None)
    text = text_of(CertificatePDF(stage).render())
    assert "Certificate of Stage Completion" in text and "Does not expire" in text
    assert "It is not an accreditation" in text and "Certificate of Accreditation" not in text


def test_a_long_name_still_fits_on_the_page():
    long_name = "Maximiliana Alexandrina Featherstonehaugh-Cholmondeley-Marjoribanks"
    text = text_of(CertificatePDF(replace(DATA, holder_name=long_name)).render())
    assert long_name in text


def test_the_same_data_gives_the_same_bytes():
    assert CertificatePDF(DATA).render() == CertificatePDF(DATA).render()
    assert CertificatePDF(DATA).render() != CertificatePDF(replace(DATA, number="AV-0000-0000")).render()


def test_the_qr_code_opens_the_verification_page(tmp_path):
    tools_or_skip()
    assert decode_qr(CertificatePDF(DATA).render(), tmp_path) == [DATA.verify_url]


def test_a_stored_certificate_renders_identically_later_with_a_working_qr(app, tmp_path, clock):
    admin = make_admin()
    certificate = make_certificate(admin, make_user(name="Priya Shah"))
    first = services.certificate_pdf(certificate)
    clock.tick(86400 * 400)
    again = services.certificate_pdf(services.find_certificate(certificate.number))
    assert first == again
    text = text_of(first)
    assert "Priya Shah" in text and certificate.number in text and "1 March 2029" in text
    tools_or_skip()
    assert decode_qr(first, tmp_path) == [f"{app.config['BASE_URL']}/verify/{certificate.number}"]


def test_a_stage_certificate_from_the_database(app):
    admin = make_admin()
    certificate = issue(make_earned_record(make_user(name="Jo Williams"), final=False), admin)
    text = text_of(services.certificate_pdf(certificate))
    assert "Stage 1 of the VIG Practitioner pathway" in text and "Jo Williams" in text
