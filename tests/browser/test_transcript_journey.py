"""A trainee makes a training transcript and someone checks it, as a browser sees it: the pages the
holder uses, the public page its QR code opens, and the check of the pasted signed copy. Every page
is scanned with axe, on a desktop and on a phone 320 CSS pixels wide (no sideways scrolling).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEFAULT_TIMEOUT_MS, DESKTOP, MOBILE, Browse
from tests.browser.test_verify_journey import fits
from tests.factories import PASSWORD
from tests.transcript_factories import make_training_record
from vigtrain.certificates import transcripts
from vigtrain.certificates.models import TrainingTranscript
from vigtrain.extensions import db


@pytest.fixture(params=[DESKTOP, MOBILE], ids=["desktop", "320px"])
def visitor(request, browser, live_server) -> Iterator[Browse]:
    context = browser.new_context(viewport=request.param, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    yield Browse(context.new_page(), live_server, f"transcript-{request.node.name}")
    context.close()


def test_a_trainee_makes_a_transcript_and_a_stranger_checks_it(visitor, app):
    make_training_record()
    page = visitor.page
    visitor.sign_in("tara@example.org", PASSWORD)

    visitor.visit("/certificates")
    visitor.act(lambda: page.get_by_role("button", name="Make a transcript of my training").click())
    db.session.expire_all()
    transcript = db.session.scalar(db.select(TrainingTranscript))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Training transcript {transcript.number}")
    main = page.get_by_role("main")
    expect(main).to_contain_text("3.5 of 7 hours")
    fits(page)
    visitor.visit("/certificates/transcripts")
    expect(main).to_contain_text(transcript.number)
    with app.test_request_context():
        token = transcripts.transcript_jwt(transcript)

    visitor.sign_out()
    visitor.visit("/verify")
    page.get_by_label("Certificate number").fill(transcript.number.lower())
    visitor.act(lambda: page.get_by_role("button", name="Check certificate").click())
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Training transcript {transcript.number}")
    expect(main).to_contain_text("AVIGuk issued this transcript")
    expect(main).to_contain_text("Tara Trainee")
    fits(page)

    visitor.visit("/verify/credential")
    page.get_by_label("Credential").fill(token)
    visitor.act(lambda: page.get_by_role("button", name="Check credential").click())
    expect(main).to_contain_text("This training transcript is genuine")
    fits(page)
