"""Training transcripts: what one records from a small, realistic training record, who may make and
download one, how it verifies by number and as a pasted credential, and how a tampered copy fails.

Signatures are checked with PyJWT against the published key set, as an outside verifier would.
"""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import date
from html import unescape

import jwt
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.factories import make_supervision, make_user
from tests.transcript_factories import make_training_record
from vigtrain.accounts.models import Role
from vigtrain.certificates import transcripts
from vigtrain.certificates.keys import revoke_key
from vigtrain.certificates.models import TrainingTranscript
from vigtrain.dates import UK
from vigtrain.extensions import db
from vigtrain.pathways.definitions import principles
from vigtrain.privacy.erasure import erase_person, preview

ISSUED = date(2026, 3, 10)


def text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def record(app):
    return make_training_record()


def make_transcript(record, actor=None) -> TrainingTranscript:
    transcript = transcripts.create_transcript(actor or record["tara"], record["tara"], ISSUED)
    db.session.commit()
    return transcript


def jwt_of(app, transcript) -> str:
    with app.test_request_context():
        return transcripts.transcript_jwt(transcript)


def published_key(client, token: str):
    key_set = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").get_json())
    kid = jwt.get_unverified_header(token)["kid"]
    return next(key for key in key_set.keys if key.key_id == kid).key


def paste(client, token: str):
    return client.submit("/verify/credential", {"credential": token})


def tampered(token: str, change) -> str:
    """The token with its payload changed and the original signature kept."""
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(data)
    body = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


# --- what it records ------------------------------------------------------------------------------


def test_contents_record_stages_dates_confirmed_hours_ratings_and_certificates(app, record):
    transcript = make_transcript(record)
    contents = transcripts.contents_of(transcript)
    assert transcript.number.startswith("TR-") and transcripts.canonical_transcript_number(transcript.number)
    assert contents.holder_name == "Tara Trainee" and contents.issued_on == ISSUED
    [enrolment] = contents.enrolments
    assert enrolment.pathway == "VIG Practitioner (version 2024.1)" and enrolment.started_on == date(2025, 9, 1)
    itc, stage_1, stage_2, stage_3 = enrolment.stages
    assert itc.name == "Initial Training Course" and itc.state == "Complete" and itc.status == "Completed"
    assert itc.dates == {"started": date(2025, 9, 1), "completed": date(2025, 9, 30)}
    assert stage_1.state == "Accredited" and stage_1.dates == {
        "started": date(2025, 10, 1),
        "submitted": date(2026, 2, 2),
        "signed_off": date(2026, 2, 9),
        "accredited": date(2026, 2, 27),
    }
    # Confirmed hours only, each in the stage current on its date; the unconfirmed 2 hours are not there.
    assert (stage_1.hours, stage_1.target_hours) == ("3.5", "7")
    assert (stage_2.hours, stage_2.status) == ("1", "InProgress")
    assert stage_3.hours is None and stage_3.state == "Not started" and stage_3.status is None
    assert enrolment.confirmed_hours == "4.5"
    # Both assessments of the signed-off stage; none of the open stage, whose ratings may still change.
    names = [p.name for p in principles().principles]
    assert [(r.kind, r.principle, r.value) for r in stage_1.ratings] == [
        *(("Supervisor", name, 4) for name in names),
        *(("Self-assessment", name, 3) for name in names),
    ]
    assert stage_1.ratings[0].label == "Consistent" and stage_2.ratings == []
    [certificate] = contents.certificates
    assert (certificate.number, certificate.kind, certificate.status) == (
        record["certificate"].number,
        "Stage completion",
        "Valid",
    )
    # Confirmed facts only: no evidence notes (they may mention cases), nobody else's name.
    stored = transcript.credential_json
    assert "ABC-123" not in stored and "Sian" not in stored


def test_the_credential_is_an_open_badges_credential_with_results(app, client, record):
    credential = transcripts.stored_credential(make_transcript(record))
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "ext:TrainingTranscript"
    described = {rd["id"] for rd in achievement["resultDescription"]}
    assert all(result["resultDescription"] in described for result in credential["credentialSubject"]["result"])
    levels = [rd for rd in achievement["resultDescription"] if rd["resultType"] == "RubricCriterionLevel"]
    assert len(levels) == 12 and {level["level"] for level in levels[0]["rubricCriterionLevel"]} == set("12345")
    # Each stage's result aligns to the stage's public Achievement, which answers.
    aligned = [rd["alignment"][0] for rd in achievement["resultDescription"] if "alignment" in rd]
    assert [a["targetName"] for a in aligned] == ["Initial Training Course", "Stage 1", "Stage 2", "Stage 3"]
    assert client.get(aligned[1]["targetUrl"].removeprefix("http://localhost")).get_json()["name"].startswith("Stage 1")
    assert credential["evidence"][0]["id"].endswith(f"/verify/{credential['evidence'][0]['name'][12:]}")


def test_contents_are_fixed_when_made(app, record):
    transcript = make_transcript(record)
    before = transcript.credential_json
    make_supervision(record["certificate"].enrolment, record["supervisor"], 1, date(2026, 3, 9))
    assert transcripts.contents_of(transcript).enrolments[0].stages[2].hours == "1"
    assert db.session.get(TrainingTranscript, transcript.id).credential_json == before


def test_someone_with_no_training_is_told_there_is_nothing_to_record(app, client):
    make_user("nobody@example.org", roles=(Role.SUPERVISOR,))
    client.login("nobody@example.org")
    response = client.submit("/certificates/transcripts", page="/certificates/transcripts")
    assert response.status_code == 422
    assert "There is no training on record yet" in text(response)
    assert db.session.scalar(select(func.count()).select_from(TrainingTranscript)) == 0


# --- making and downloading -----------------------------------------------------------------------


def test_the_holder_makes_one_from_your_certificates_and_downloads_both(app, client, record):
    client.login("tara@example.org")
    assert "Make a transcript of my training" in text(client.get("/certificates"))
    response = client.submit("/certificates/transcripts", page="/certificates")
    assert response.status_code == 302
    transcript = db.session.scalar(select(TrainingTranscript))
    assert response.headers["Location"] == f"/certificates/transcripts/{transcript.number}"
    assert (transcript.holder_id, transcript.issued_by_id) == (record["tara"].id, record["tara"].id)
    page = text(client.get(response.headers["Location"]))
    assert "Stage 1" in page and "3.5 of 7 hours" in page and "Supervisor" in page

    pdf = client.get(f"/certificates/transcripts/{transcript.number}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    words = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert transcript.number in words and "Initial Training Course" in words and "Stage 3" in words
    assert "3.5 of 7" in words and f"/verify/{transcript.number}" in words

    download = client.get(f"/certificates/transcripts/{transcript.number}/credential.jwt")
    assert download.status_code == 200 and download.mimetype == "application/vc+jwt"
    token = download.get_data(as_text=True)
    payload = jwt.decode(token, published_key(client, token), algorithms=["EdDSA"])
    assert payload["jti"] == payload["id"] and payload["sub"] == payload["credentialSubject"]["id"]
    assert {k: v for k, v in payload.items() if k not in transcripts.JWT_CLAIMS} == json.loads(
        transcript.credential_json
    )


def test_an_administrator_makes_one_from_the_trainees_record(app, client, record):
    client.login("admin@example.org")
    enrolment_page = f"/enrolments/{record['certificate'].enrolment_id}"
    assert "Make a training transcript" in text(client.get(enrolment_page))
    response = client.submit(f"/admin/certificates/people/{record['tara'].id}/transcripts", page=enrolment_page)
    transcript = db.session.scalar(select(TrainingTranscript))
    assert response.headers["Location"] == f"/certificates/transcripts/{transcript.number}"
    assert (transcript.holder_id, transcript.issued_by_id) == (record["tara"].id, record["admin"].id)
    assert client.get(f"/certificates/transcripts/{transcript.number}.pdf").status_code == 200
    assert transcript.number in text(client.get(enrolment_page))


def test_nobody_else_sees_or_makes_one(app, client, record):
    transcript = make_transcript(record)
    make_user("owen@example.org")
    client.login("owen@example.org")
    for url in ("", ".pdf", "/credential.jwt"):
        assert client.get(f"/certificates/transcripts/{transcript.number}{url}").status_code == 404
    assert client.get("/certificates/transcripts/TR-0000-0000").status_code == 404
    refused = client.submit(f"/admin/certificates/people/{record['tara'].id}/transcripts", page="/certificates")
    assert refused.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(TrainingTranscript)) == 1


# --- verifying -------------------------------------------------------------------------------------


def test_the_number_shows_its_facts_to_anyone(app, client, record):
    transcript = make_transcript(record)
    assert client.get("/verify", query_string={"number": transcript.number.lower()}).headers["Location"] == (
        f"/verify/{transcript.number}"
    )
    page = text(client.get(f"/verify/{transcript.number}"))
    assert "AVIGuk issued this transcript" in page and "Tara Trainee" in page and "10 March 2026" in page
    assert "Signed off by supervisor 9 February 2026" in page and "3.5 of 7 hours" in page
    assert record["certificate"].number in page and "latest transcript" in page
    newer = transcripts.create_transcript(record["admin"], record["tara"], date(2026, 4, 1))
    db.session.commit()
    assert "A newer transcript was issued" in text(client.get(f"/verify/{transcript.number}"))
    assert newer.number not in text(client.get(f"/verify/{transcript.number}"))  # a newer one is not named
    missing = client.get("/verify/TR-0000-0000")
    assert missing.status_code == 404 and "could not find a training transcript" in text(missing)


def test_the_json_facts_match_the_page(app, client, record):
    transcript = make_transcript(record)
    response = client.get(f"/verify/{transcript.number}.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.get_json()
    assert (data["number"], data["holder"], data["issued_on"]) == (transcript.number, "Tara Trainee", "2026-03-10")
    assert data["verification_url"] == f"http://localhost/verify/{transcript.number}"
    assert data["newer_transcript_issued"] is False and "holder_note" not in data
    [enrolment] = data["enrolments"]
    assert enrolment["pathway"] == "VIG Practitioner (version 2024.1)" and enrolment["started_on"] == "2025-09-01"
    stage_1 = enrolment["stages"][1]
    assert stage_1["name"] == "Stage 1" and stage_1["dates"]["signed_off"] == "2026-02-09"
    assert (stage_1["supervision_hours"], stage_1["supervision_hours_required"]) == ("3.5", "7")
    assert stage_1["ratings"][0] == {
        "by": "Supervisor",
        "principle": "Being attentive",
        "value": 4,
        "label": "Consistent",
    }
    assert enrolment["stages"][2]["ratings"] == [] and enrolment["stages"][3]["result_status"] is None
    assert [c["number"] for c in data["certificates"]] == [record["certificate"].number]
    assert data["certificates"][0]["status_when_issued"] == "Valid"
    assert "email" not in json.dumps(data).lower() and "Sian" not in json.dumps(data)
    transcripts.create_transcript(record["admin"], record["tara"], date(2026, 4, 1))
    db.session.commit()
    assert client.get(f"/verify/{transcript.number}.json").get_json()["newer_transcript_issued"] is True


def test_json_for_an_unknown_transcript_is_404_and_an_erased_holder_is_not_named(app, client, record):
    missing = client.get("/verify/TR-0000-0000.json")
    assert missing.status_code == 404
    assert missing.get_json() == {"error": "No training transcript has the number TR-0000-0000"}
    transcript = make_transcript(record)
    erase_person(record["admin"], record["tara"], "Asked to be forgotten under UK GDPR")
    db.session.commit()
    data = client.get(f"/verify/{transcript.number.lower()}.json").get_json()
    assert data["holder"] is None and "Tara" not in json.dumps(data)
    assert data["holder_note"].startswith("The holder's name was removed from AVIGuk's records on")
    assert data["holder_removed_on"] == record["tara"].erased_at.astimezone(UK).date().isoformat()


def test_crafted_json_addresses_answer_404_json(app, client):
    for path in ("/verify/TR%00.json", "/verify/TR-%00.json"):  # refused before routing, as for certificates
        assert client.get(path).status_code == 404, path
    for path in ("/verify/TR-0000-00001.json", "/verify/TR-.json", "/verify/TR-0000-000%0A0.json"):
        response = client.get(path)
        assert response.status_code == 404 and response.get_json()["error"], path


def test_the_json_facts_share_the_pages_rate_limit(app, client, record):
    app.config["VERIFY_RATE_LIMIT"] = "2 per minute"
    transcript = make_transcript(record)
    assert client.get(f"/verify/{transcript.number}").status_code == 200
    assert client.get(f"/verify/{transcript.number}.json").status_code == 200
    assert client.get(f"/verify/{transcript.number}.json").status_code == 429


def test_a_pasted_transcript_is_genuine(app, client, record):
    transcript = make_transcript(record)
    response = paste(client, jwt_of(app, transcript))
    assert response.status_code == 200
    page = text(response)
    assert "This training transcript is genuine" in page and transcript.number in page and "Tara Trainee" in page


def test_a_tampered_transcript_fails_in_plain_words(app, client, record):
    token = jwt_of(app, make_transcript(record))

    def more_hours(data):
        hours = next(r for r in data["credentialSubject"]["result"] if r["resultDescription"].endswith("s1-hours"))
        hours["value"] = "7"

    page = text(paste(client, tampered(token, more_hours)))
    assert "Do not rely on this transcript" in page
    assert "has been changed since AVIGuk signed it" in page and "genuine" not in page


def test_a_transcript_not_signed_by_a_trusted_key_fails_in_plain_words(app, client, record):
    token = jwt_of(app, make_transcript(record))
    header, payload, signature = token.split(".")
    kid = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]

    def with_header(**changes) -> str:
        data = {"alg": "EdDSA", "kid": kid, "typ": "vc+jwt"} | changes
        encoded = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
        return f"{encoded}.{payload}.{signature}"

    assert "not signed the way AVIGuk signs credentials" in text(paste(client, with_header(alg="HS256")))
    assert "not signed with AVIGuk's key" in text(paste(client, with_header(kid="someone-elses-key")))
    assert "not signed the way AVIGuk signs" in text(paste(client, f"bm90IGpzb24.{payload}.{signature}"))
    revoke_key(kid, "Key file found in a public repository")
    db.session.commit()
    page = text(paste(client, token))
    assert "AVIGuk revoked the key this transcript was signed with" in page and "public repository" in page
    assert "genuine" not in page


def test_a_signed_transcript_that_differs_from_the_record_fails(app, client, record):
    """Signed by AVIGuk's key but not what was issued (another installation's, or a forged body)."""
    transcript = make_transcript(record)
    credential = transcripts.stored_credential(transcript)
    credential["credentialSubject"]["result"][0]["value"] = "Completed"
    with app.test_request_context():
        from vigtrain.certificates.badges import sign_credential

        token = sign_credential(credential)
    page = text(paste(client, token))
    assert "does not match the transcript on record" in page and "stages, dates, hours or ratings" in page


def test_an_erased_holder_is_not_named_and_their_copy_still_verifies(app, client, record):
    transcript = make_transcript(record)
    token = jwt_of(app, transcript)
    erase_person(record["admin"], record["tara"], "Asked to be forgotten under UK GDPR")
    db.session.commit()
    assert "Tara" not in db.session.get(TrainingTranscript, transcript.id).credential_json
    page = text(client.get(f"/verify/{transcript.number}"))
    assert "Tara" not in page and "The holder's name was removed from AVIGuk's records" in page
    checked = text(paste(client, token))
    assert "This training transcript is genuine" in checked and "holder's name was removed" in checked


def test_erasure_puts_the_pseudonym_in_the_transcript_even_for_a_name_too_short_to_search(app, client, record):
    """A name under four letters is not searched for in text; the transcript's copies are set outright."""
    tara = record["tara"]
    tara.display_name = "Ty"
    db.session.commit()
    transcript = make_transcript(record)
    token = jwt_of(app, transcript)
    kept = {line.text: line.count for line in preview(tara).kept}
    assert kept["Training transcripts: anyone checking one is told the holder's name was removed"] == 1
    erasure = erase_person(record["admin"], tara, "Asked to be forgotten under UK GDPR")
    db.session.commit()
    stored = db.session.get(TrainingTranscript, transcript.id)
    label = f"Erased person {erasure.pseudonym}"
    subject = json.loads(stored.credential_json)["credentialSubject"]
    assert stored.holder_name == subject["name"] == subject["identifier"][0]["identityHash"] == label
    assert '"Ty"' not in stored.credential_json
    assert client.get(f"/verify/{transcript.number}.json").get_json()["holder"] is None
    assert "This training transcript is genuine" in text(paste(client, token))
