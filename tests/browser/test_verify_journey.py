"""Someone checks a practitioner's certificate, as a browser sees it: by number (mistyped first),
by pasting the digital credential, and in the public register. Every page is scanned with axe,
on a desktop and on phones 375 and 320 CSS pixels wide (no sideways scrolling).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DEFAULT_TIMEOUT_MS, DESKTOP, MOBILE, Browse
from tests.browser.test_small_screens import horizontal_overflow
from tests.certificate_factories import insert_certificate, make_holder
from tests.factories import PASSWORD
from vigtrain import codes
from vigtrain.certificates import badges
from vigtrain.certificates.models import NUMBER_PREFIX, CertificateStatus

PHONE = {"width": 375, "height": 812}
REASON = "Revoked by AVIGuk after a complaint about practice was upheld."


def mistype(number: str) -> str:
    body = number.replace("-", "")[2:]
    wrong = ("1" if body[0] != "1" else "2") + body[1:]
    return codes.format_code(NUMBER_PREFIX, wrong)


@pytest.fixture(params=[DESKTOP, PHONE, MOBILE], ids=["desktop", "375px", "320px"])
def visitor(request, browser, live_server) -> Iterator[Browse]:
    context = browser.new_context(viewport=request.param, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    yield Browse(context.new_page(), live_server, f"verify-{request.node.name}")
    context.close()


def fits(page: Page) -> None:
    problem = horizontal_overflow(page)
    assert problem is None, f"{page.url} scrolls sideways at {page.viewport_size['width']}px: {problem}"


def test_checking_a_certificate_by_number(visitor, app):
    holder = make_holder("Catherine Ashworth-Montgomery", listed=True)
    certificate = insert_certificate(holder)
    renewed_holder = make_holder("Ravi Renewed")
    renewed = insert_certificate(renewed_holder, replaces=insert_certificate(renewed_holder))
    revoked = insert_certificate(make_holder("Rhys Revoked"), status=CertificateStatus.REVOKED, reason=REASON)
    page = visitor.page

    visitor.visit("/verify")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check a certificate")
    fits(page)

    # A mistyped character: the message sits beside the field and in the summary.
    field = page.get_by_label("Certificate number")
    field.fill(mistype(certificate.number))
    visitor.act(lambda: page.get_by_role("button", name="Check certificate").click(), status=422)
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.locator("#number-error")).to_contain_text("the last character doesn't match")
    fits(page)
    page.get_by_role("link", name="the last character doesn't match", exact=False).click()
    expect(page.get_by_label("Certificate number")).to_be_focused()

    # Typed carelessly (lower case, spaces) but correct: the certificate's page.
    page.get_by_label("Certificate number").fill(certificate.number.lower().replace("-", " "))
    visitor.act(lambda: page.get_by_role("button", name="Check certificate").click())
    assert visitor.path() == f"/verify/{certificate.number}"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Certificate {certificate.number}")
    main = page.get_by_role("main")
    expect(main).to_contain_text("This certificate was issued by AVIGuk and is valid.")
    expect(main).to_contain_text("Catherine Ashworth-Montgomery")
    expect(main).not_to_contain_text(holder.email)
    fits(page)

    # A superseded certificate leads to the one that replaced it.
    visitor.visit(f"/verify/{renewed.replaces.number}")
    expect(main).to_contain_text("Superseded")
    visitor.act(lambda: page.get_by_role("link", name=renewed.number).click())
    expect(main).to_contain_text("is valid")

    visitor.visit(f"/verify/{revoked.number}")
    expect(main).to_contain_text(REASON)
    fits(page)

    unknown = codes.generate(NUMBER_PREFIX)
    visitor.visit(f"/verify/{unknown}", status=404)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"We could not find a certificate with number {unknown}")
    visitor.act(lambda: page.get_by_role("link", name="Check another certificate").click())
    assert visitor.path() == "/verify"


def test_checking_a_pasted_credential(visitor, app):
    certificate = insert_certificate(make_holder("Priya Credential"))
    with app.test_request_context():
        token = badges.credential_jwt(certificate)
    page = visitor.page

    visitor.visit("/verify")
    visitor.act(lambda: page.get_by_role("link", name="check the credential").click())
    expect(page.get_by_role("heading", level=1)).to_have_text("Check a credential")

    page.get_by_label("Credential").fill("this is not a credential")
    visitor.act(lambda: page.get_by_role("button", name="Check credential").click(), status=422)
    expect(page.locator("#credential-error")).to_contain_text("Check you copied all of it")
    fits(page)

    page.get_by_label("Credential").fill(token)
    visitor.act(lambda: page.get_by_role("button", name="Check credential").click())
    main = page.get_by_role("main")
    expect(main).to_contain_text("This credential is genuine: AVIGuk signed it, and the certificate is valid.")
    expect(main).to_contain_text("Priya Credential")
    fits(page)

    # The same credential with the holder's name changed.
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["name"] = "Someone Else"
    changed = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    page.get_by_label("Credential").fill(f"{header}.{changed}.{signature}")
    visitor.act(lambda: page.get_by_role("button", name="Check credential").click())
    expect(main).to_contain_text("Do not rely on this credential.")
    expect(main).not_to_contain_text("This credential is genuine")
    fits(page)


def test_the_register_and_choosing_to_appear(visitor):
    for name, listed in (("Amelia Listed", True), ("Nobody Unlisted", False)):
        insert_certificate(make_holder(name, listed=listed))
    holder = make_holder("Olu Choosing", password=PASSWORD)
    insert_certificate(holder)
    page = visitor.page

    visitor.visit("/register")
    expect(page.get_by_role("heading", level=1)).to_have_text("Register of accredited practitioners")
    table = page.get_by_role("table")
    expect(table).to_contain_text("Amelia Listed")
    expect(table).not_to_contain_text("Nobody Unlisted")
    fits(page)

    page.get_by_label("Name").fill("zzz")
    visitor.act(lambda: page.get_by_role("button", name="Search").click())
    expect(page.get_by_role("main")).to_contain_text("No practitioners found")

    visitor.visit("/login")
    visitor.sign_in(holder.email, PASSWORD)
    visitor.visit("/register/you")
    fits(page)
    page.get_by_label("Yes, list my name, credential, region and status").check()
    visitor.act(lambda: page.get_by_role("button", name="Save").click())
    expect(page.get_by_role("main")).to_contain_text("You have chosen to appear in the public register.")
    visitor.visit("/register")
    expect(page.get_by_role("table")).to_contain_text("Olu Choosing")
