"""Fuzzing every form: generated submissions to every POST endpoint, signed in as someone who may use it.

Each endpoint's form is read from the page that shows it (its fields, their options, the values
the page filled in), and hypothesis sends it plausible values, hostile text (very long, astral
and right-to-left characters, NUL and other controls, bytes that are not UTF-8, leading = + - @,
markup, SQL), missing, repeated and extra fields, always with a valid CSRF token so the request
reaches the form's own checks. Whatever it sends:

- the answer is never a server error: it is 2xx, 3xx or 4xx;
- a refused submission (any 4xx, or a page shown again with its error summary) wrote nothing:
  no table gained or lost a row, no versioned row moved, no audit event was recorded;
- a redirect never leaves the site (the `next` fields are fuzzed too).

Successful submissions are welcome and do change the world, so the fingerprint is read afresh
before each request, and the session cookie is put back as the page left it (a submission that
signs out, or signs in, does not spoil the examples after it).

VIGTRAIN_FUZZ_EXAMPLES examples per form (200 in CI, 25 locally; see tests/fuzz/__init__.py).
CI runs derandomized, so a red build fails the same way on a rerun.
"""

from __future__ import annotations

from dataclasses import dataclass
from unittest.mock import ANY
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import PASSWORD
from tests.fuzz import EXAMPLES, IN_CI
from tests.fuzz.fingerprint import changes, fingerprint
from tests.fuzz.html_forms import Form, post_forms
from tests.fuzz.values import Hints, encode, submissions
from tests.fuzz.world import World
from vigtrain import audit
from vigtrain.cohorts.models import Cohort
from vigtrain.extensions import db
from vigtrain.training import workflow

# Refusals that rightly record something: a wrong password or code counts toward the sign-in lock,
# with an audit event (the count itself is an update the fingerprint does not see).
COUNTS_ATTEMPT = frozenset({"audit_event:rows"})


@dataclass(frozen=True)
class Target:
    """One POST endpoint: who uses it, where it posts, and the page that shows its form."""

    endpoint: str
    who: str | None  # a key of World.people; None: nobody signed in
    url: str  # filled from World.ids with str.format
    page: str | None = None  # default: the url itself
    shown_as: str | None = None  # a form on the page with the same fields, posting elsewhere
    refusal_writes: frozenset[str] = frozenset()  # fingerprint keys a refusal may rightly move by one
    pending_second_factor: bool = False
    name: str = ""

    @property
    def id(self) -> str:
        return self.name or self.endpoint

    def __repr__(self) -> str:
        return self.id


STAGE = "/enrolments/{%s_enrolment}/stages/%s"


def _stage_action(path: str, trainee: str, stage: str, who: str) -> Target:
    page = STAGE % (trainee, stage)
    return Target("training.act_on_stage", who, f"{page}/{path}", page=page, name=f"training.act_on_stage[{path}]")


TARGETS = [
    # Signing in and one-time links.
    Target("accounts.login", None, "/login", refusal_writes=COUNTS_ATTEMPT),
    Target(
        "accounts.verify_second_factor",
        "login_2fa",
        "/login/security-code",
        refusal_writes=COUNTS_ATTEMPT,
        pending_second_factor=True,
    ),
    Target("accounts.logout", "logout", "/logout", page="/account"),
    Target("accounts.request_password_reset", None, "/password/forgot"),
    Target("accounts.reset_password", None, "/password/reset/{reset_token}"),
    Target("accounts.accept_invitation", None, "/invitation/{invitation_token}"),
    # One's own account.
    Target("accounts.edit_details", "details", "/account/details"),
    Target("accounts.change_password", "password", "/account/password", refusal_writes=COUNTS_ATTEMPT),
    Target("accounts.setup_second_factor", "setup_2fa", "/account/two-factor"),
    Target(
        "accounts.regenerate_recovery_codes",
        "codes_2fa",
        "/account/two-factor/recovery-codes",
        refusal_writes=COUNTS_ATTEMPT,
    ),
    Target("accounts.disable_second_factor", "off_2fa", "/account/two-factor/turn-off", refusal_writes=COUNTS_ATTEMPT),
    Target("api_tokens.create_token", "tokens", "/account/tokens/new", refusal_writes=COUNTS_ATTEMPT),
    Target("api_tokens.revoke_token", "tokens", "/account/tokens/{token}/revoke"),
    Target("subject_access.my_data", "tr", "/account/my-data"),
    Target("verify.choose_listing", "prac", "/register/you"),
    Target("verify.check_credential", None, "/verify/credential"),
    # Administrators and accounts.
    Target("users.invite_user", "admin", "/admin/users/invite"),
    Target("users.edit_user", "admin", "/admin/users/{edit_target}/edit"),
    Target("users.service_leads", "admin", "/admin/users/service-leads/{service_leads}"),
    Target(
        "users.stand_down_service_lead",
        "admin",
        "/admin/users/service-leads/{service_standing}/{lead}/stand-down",
        page="/admin/users/service-leads/{service_standing}",
    ),
    Target(
        "users.resend_invitation",
        "admin",
        "/admin/users/{resend_target}/resend-invitation",
        page="/admin/users/{resend_target}",
    ),
    Target("users.unlock_user", "admin", "/admin/users/{unlock_target}/unlock", page="/admin/users/{unlock_target}"),
    Target(
        "users.reset_second_factor",
        "admin",
        "/admin/users/{reset_2fa_target}/reset-two-factor",
        page="/admin/users/{reset_2fa_target}",
    ),
    Target("training.edit_capacity", "admin", "/admin/capacity/{capacity_target}"),
    Target("subject_access.person_data", "admin", "/admin/users/{edit_target}/data"),
    # Services, licensed wording, cohorts.
    Target("organisations.create_service", "admin", "/admin/services/new"),
    Target("organisations.edit_service", "admin", "/admin/services/{service_edit}/edit"),
    Target("wording.add_wording", "admin", "/admin/services/{service_wording}/licensed-wording/{wording_code}/new"),
    Target("wording.remove_wording", "admin", "/admin/services/{service_wording}/licensed-wording/{wording}/remove"),
    Target("cohorts.create_cohort", "admin", "/admin/cohorts/new"),
    Target("cohorts.edit_cohort", "admin", "/admin/cohorts/{cohort}/edit"),
    # No page shows this one's form: the records list shows the same fields posting to the chosen cohort.
    Target(
        "cohorts.add_members",
        "admin",
        "/admin/cohorts/{cohort}/members",
        page="/admin/records",
        shown_as="/admin/cohorts/members",
    ),
    Target("cohorts.add_members_to_chosen", "admin", "/admin/cohorts/members", page="/admin/records"),
    Target(
        "cohorts.remove_member",
        "admin",
        "/admin/cohorts/{cohort_shrinking}/members/{member}/remove",
        page="/cohorts/{cohort_shrinking}",
    ),
    # Training records and the sign-off chain.
    Target("training.enrol_trainee", "admin", "/enrolments/new"),
    Target("training.change_supervisor", "admin", "/enrolments/{t_supervisor_enrolment}/supervisor"),
    Target("training.change_status", "admin", "/enrolments/{t_status_enrolment}/status"),
    _stage_action("submit", "t_submit", "stage-1", "t_submit"),
    _stage_action("sign-off", "t_signoff", "stage-1", "sup"),
    _stage_action("return", "t_return", "stage-1", "sup"),
    _stage_action("attendance", "t_attendance", "itc", "admin"),
    _stage_action("accreditor", "t_accreditor", "stage-1", "admin"),
    _stage_action("meeting", "t_meeting", "stage-1", "acc"),
    _stage_action("ratify", "t_ratify", "stage-3", "admin"),
    _stage_action("exemption", "t_exemption", "stage-2", "admin"),
    Target("training.edit_assessment", "tr", STAGE % ("tr", "stage-1") + "/assessment/self"),
    Target("training.edit_statement", "tr", STAGE % ("tr", "stage-1") + "/statement"),
    # Supervision.
    Target("supervision.log_session", "tr", "/supervision/new"),
    Target("supervision.edit_session", "tr", "/supervision/{logged_session}/edit"),
    Target("supervision.amend_session", "tr", "/supervision/{confirmed_session}/correct"),
    Target("supervision.log_group_session", "sup", "/supervision/group/new"),
    Target(
        "supervision.review_session",
        "review_sup",
        "/supervision/{review_session}/review",
        page="/supervision/{review_session}",
    ),
    Target("supervision.bulk_confirm", "queue_sup", "/supervision/queue"),
    # Casework and outcome measures.
    Target("casework.create_case", "prac", "/cases/new"),
    Target("casework.edit_case", "prac", "/cases/{case_edit}/edit"),
    Target("casework.close_case", "prac", "/cases/{case_close}/close"),
    Target("casework.reopen_case", "prac", "/cases/{case_closed}/reopen", page="/cases/{case_closed}"),
    Target("casework.add_cycle", "prac", "/cases/{case_cycle}/cycles/new"),
    Target("casework.add_cycle_to_a_case", "prac", "/cycles/new"),
    Target("dcs.choose_case_and_measure", "prac", "/measures/record"),
    Target("casework.delete_cycle", "prac", "/cases/{case_cycle_delete}/cycles/{cycle}/delete"),
    Target("dcs.choose_measure", "prac", "/cases/{case_choose}/measures/new"),
    Target("dcs.enter_measure", "prac", "/cases/{case_enter}/measures/GAD-7/pre"),
    Target("dcs.delete_administration", "prac", "/cases/{case_measure}/measures/{administration}/delete"),
    Target("invitations.invite_client", "prac", "/cases/{case_invite}/invitations/new"),
    Target("invitations.invite_for_post", "prac", "/cases/{case_post}/invitations/post", page="/home"),
    Target(
        "invitations.revoke_invitation",
        "prac",
        "/cases/{case_revoke}/invitations/{invitation}/revoke",
        page="/cases/{case_revoke}",
    ),
    Target("respond.answer", None, "/respond/{respond_token}/GAD-7"),
    Target("reports.research_export", "admin", "/reports/export"),
    # Training flow: the cost rates, and the refresh button (shown on the overview).
    Target("flow.edit_rates", "admin", "/training-flow/rates/{pathway_version}"),
    Target("flow.refresh", "admin", "/training-flow/refresh", page="/training-flow/"),
    # Notifications and scheduled jobs.
    Target("inbox.mark_read", "tr", "/notifications/{notification}/read", page="/notifications"),
    Target("inbox.mark_all_read", "tr", "/notifications/read-all", page="/notifications"),
    Target("inbox.preferences", "tr", "/notifications/settings"),
    Target("jobs.run_job", "admin", "/admin/jobs/expire-certificates/run", page="/admin/jobs/expire-certificates"),
    # Certificates.
    Target("certificate_admin.issue_one", "admin", "/admin/certificates/issue/{earned_record}"),
    Target("certificate_admin.start_bulk_issue", "admin", "/admin/certificates/to-issue"),
    # Bulk import: the upload (a file, or anything sent in its place) and the confirmation.
    Target("imports.upload", "admin", "/admin/import/"),
    Target("imports.confirm_import", "admin", "/admin/import/{import}"),
    Target("erasure.erase_person", "admin", "/admin/erasure/{erase_target}"),
    Target("certificate_admin.revoke_certificate", "admin", "/admin/certificates/{certificate_revoke}/revoke"),
    Target("certificate_admin.renew_certificate", "admin", "/admin/certificates/{certificate_renew}/renew"),
    Target("certificate_admin.reissue_certificate", "admin", "/admin/certificates/{certificate_reissue}/reissue"),
    Target("certificate_admin.suspend_certificate", "admin", "/admin/certificates/{certificate_suspend}/suspend"),
    Target("certificate_admin.reinstate_certificate", "admin", "/admin/certificates/{certificate_reinstate}/reinstate"),
    Target(
        "certificates.request_renewal",
        "holder_ask",
        "/certificates/{certificate_ask}/renewal-request",
        page="/certificates",
    ),
    # Adding a certificate to a digital wallet: each accepted example makes a new single-use offer.
    Target(
        "certificates.offer_to_wallet", "holder_ask", "/certificates/{certificate_ask}/wallet", page="/certificates"
    ),
    # Training transcripts: the holder's button, and the administrator's on the trainee's record.
    Target("certificates.create_transcript", "tr", "/certificates/transcripts"),
    Target(
        "certificate_admin.create_transcript_for",
        "admin",
        "/admin/certificates/people/{tr_user}/transcripts",
        page="/enrolments/{tr_enrolment}",
    ),
]


@dataclass(repr=False)
class Bench:
    """A target made ready: a client signed in as its user, the form(s) read from its page."""

    target: Target
    url: str
    client: object
    forms: list[Form]
    csrf_token: str
    session_cookie: str | None
    submissions: st.SearchStrategy[tuple[int, list[tuple[str, object]]]]

    def restore_session(self) -> None:
        """Put the session back as the page left it: earlier examples may have signed out or in."""
        name = self.client.application.config["SESSION_COOKIE_NAME"]
        if self.session_cookie is None:
            self.client.delete_cookie(name)
        else:
            self.client.set_cookie(name, self.session_cookie)

    def post(self, pairs: list[tuple[str, object]], multipart: bool):
        scheme = self.client.application.config["PREFERRED_URL_SCHEME"]
        referer = f"{scheme}://localhost{self.target.page or self.url}"
        # Buffered: a streamed answer (the research export) is read while its request is still open.
        return self.client.post(self.url, headers={"Referer": referer}, buffered=True, **encode(pairs, multipart))


def _sign_in(client, world: World, who: str, pending: bool) -> None:
    person = world.people[who]
    response = client.submit("/login", {"email": person.email, "password": person.password})
    assert response.status_code == 302, f"{who} could not sign in ({response.status_code})"
    if person.recovery_codes and not pending:
        response = client.submit("/login/security-code", {"code": person.recovery_codes.pop()})
        assert response.status_code == 302, f"{who} could not give their second factor ({response.status_code})"


def _prepare(app, world: World, target: Target) -> Bench:
    client = app.test_client()
    if target.who is not None:
        _sign_in(client, world, target.who, target.pending_second_factor)
    url = target.url.format(**world.ids)
    page = (target.page or target.url).format(**world.ids)
    posts_to = urlsplit((target.shown_as or target.url).format(**world.ids)).path
    response = client.get(page)
    assert response.status_code == 200, f"{page} answered {response.status_code} for {target.who}"
    forms = [form for form in post_forms(response.get_data(as_text=True), page) if form.action == posts_to]
    assert forms, f"{page} shows {target.who} no form posting to {posts_to}"
    csrf_tokens = [form.fields["csrf_token"].values[0] for form in forms if "csrf_token" in form.fields]
    assert csrf_tokens, f"the form on {page} carries no CSRF token"
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    passwords = (PASSWORD, "not the password at all", "correct horse battery stapler")
    hints = Hints(emails=tuple(world.emails), passwords=passwords, people=tuple(world.user_ids))
    # Built once per form: hypothesis draws far faster from a strategy it has seen before.
    # Drawn with the form's place on the page, which reads better than the form in a failure report.
    drawn = st.one_of(
        [st.tuples(st.just(index), submissions(form, hints, csrf_tokens[0])) for index, form in enumerate(forms)]
    )
    return Bench(target, url, client, forms, csrf_tokens[0], cookie.value if cookie else None, drawn)


class Benches(dict):
    """Benches by target id, shown briefly in hypothesis's report of a failing example."""

    def __repr__(self) -> str:
        return f"<{len(self)} forms>"


@pytest.fixture(scope="module")
def benches(fuzz_app, world) -> Benches:
    """Every target made ready before any is fuzzed, so each page is read in the world as built."""
    return Benches((target.id, _prepare(fuzz_app, world, target)) for target in TARGETS)


def test_every_post_endpoint_is_fuzzed(fuzz_app):
    """A new form without a target here fails this test, rather than going unfuzzed."""
    fuzzed = {target.endpoint for target in TARGETS}
    actions = {target.url.rsplit("/", 1)[1] for target in TARGETS if target.endpoint == "training.act_on_stage"}
    posting = set()
    for rule in fuzz_app.url_map.iter_rules():
        # The API: tests/api/test_schemathesis.py; the wallet protocol (JSON and OAuth forms, no page):
        # the hypothesis tests in tests/certificates/test_wallet.py.
        if "POST" in rule.methods and not rule.endpoint.startswith(("api.", "openid4vci.")):
            posting.add(rule.endpoint)
    assert posting - fuzzed == set(), "POST endpoints with no fuzzing target"
    assert fuzzed - posting == set(), "targets naming no POST endpoint"
    assert actions == set(workflow.BY_PATH), "sign-off actions with no fuzzing target"


def test_each_target_posts_to_its_endpoint(fuzz_app, world):
    adapter = fuzz_app.url_map.bind("localhost")
    for target in TARGETS:
        endpoint, _ = adapter.match(urlsplit(target.url.format(**world.ids)).path, method="POST")
        assert endpoint == target.endpoint, target.id


def test_the_fingerprint_sees_a_row_added_and_a_row_changed(fuzz_app, world):
    """The check on refusals is only as good as the fingerprint: it must notice both kinds of write."""
    before = fingerprint()
    audit.record(None, "fuzz.fingerprint_checked", ("Fingerprint", None))
    cohort = db.session.get(Cohort, int(world["cohort"]))
    cohort.name = f"{cohort.name} (renamed)"
    db.session.commit()
    moved = changes(before, fingerprint())
    assert moved == {"audit_event:rows": ANY, "cohort:versions": ANY}


# --- server errors the fuzzer found ----------------------------------------------------------------------
#
# Each was a 500 for the input below; each is fixed, and these keep them fixed whatever the fuzzer
# happens to draw on a given run.


def _as_filled(bench: Bench, **overrides: str) -> list[tuple[str, object]]:
    """The form as its page filled it in (its first button pressed), with `overrides` in place."""
    pairs: list[tuple[str, object]] = []
    for found in bench.forms[0].fields.values():
        if found.name in overrides:
            pairs.append((found.name, overrides[found.name]))
        elif found.kind in {"button", "submit"}:
            pairs.extend([(found.name, found.options[0])] if found.name in {"submit", "confirm"} else [])
        else:
            pairs.extend((found.name, value) for value in found.values)
    return pairs + [(name, value) for name, value in overrides.items() if name not in bench.forms[0].fields]


def _send(bench: Bench, **overrides: str):
    bench.restore_session()
    return bench.post(_as_filled(bench, **overrides), bench.forms[0].multipart)


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("accounts.setup_second_factor", "\u0661\u0662\u0663\u0664\u0665\u0666"),
        ("accounts.verify_second_factor", "\u00b2" * 6),
    ],
    ids=["setup", "sign-in"],
)
def test_a_security_code_in_digits_other_than_ascii_is_a_wrong_code(benches, target, code):
    """Was a 500: the code reached hmac.compare_digest, which refuses text that is not ASCII."""
    assert _send(benches[target], code=code).status_code == 422


HUGE = "1" * 4301


@pytest.mark.parametrize(
    ("target", "sent"),
    [
        ("supervision.review_session", {"version": HUGE}),
        ("supervision.review_session", {"version": "\u00b2"}),
        ("supervision.edit_session", {"version": HUGE}),
        ("supervision.amend_session", {"version": HUGE, "amendment_reason": "It was 45 minutes, not an hour."}),
        ("supervision.bulk_confirm", {"sessions": f"{HUGE}:1"}),
        ("cohorts.add_members_to_chosen", {"enrolment": HUGE, "cohort": "{cohort}"}),
        ("certificate_admin.start_bulk_issue", {"records": HUGE}),
        ("cohorts.create_cohort", {"lead": "\u00b2", "name": "Winter intake"}),
        ("training.enrol_trainee", {"trainee": "\u00b2"}),
        ("inbox.mark_all_read", {"up_to": "9" * 20}),
    ],
    ids=lambda value: value if isinstance(value, str) else "-".join(value),
)
def test_digits_that_are_not_a_number_are_refused(benches, world, target, sent):
    """Was a 500: text that passes str.isdigit() went to int(), which refuses superscripts and
    more than 4,300 digits."""
    overrides = {name: value.format(**world.ids) if "{" in value else value for name, value in sent.items()}
    assert _send(benches[target], **overrides).status_code < 500


def test_the_refresh_reads_a_stage_whose_earlier_move_was_never_recorded(benches):
    """Was a 500: a signed-off stage with no recorded submission (the world's t_flow) counted sign-off
    as a completed step with no days, and working out the figures raised KeyError."""
    response = _send(benches["flow.refresh"])
    assert response.status_code == 302 and response.headers["Location"].startswith("/training-flow/")


@pytest.mark.parametrize("amount", ["1e999999", "9E+999999", "£1e999999"])
def test_an_amount_beyond_what_decimal_can_multiply_is_refused(benches, amount):
    """Was a 500: checking the £1,000,000 limit multiplied the amount by 100, and decimal.Overflow
    escaped for an exponent at the edge of Decimal's range."""
    before = fingerprint()
    response = _send(benches["flow.edit_rates"], supervision_hour=amount, course_fee="850", accreditation_fee="120")
    assert response.status_code == 422
    assert "Enter an amount of £1,000,000 or less" in response.get_data(as_text=True)
    assert changes(before, fingerprint()) == {}


def _refused(response) -> bool:
    if response.status_code >= 400:
        return True
    return response.status_code == 200 and b"govuk-error-summary" in response.get_data()


def _show(pairs: list[tuple[str, object]]) -> str:
    shown = []
    for name, value in pairs:
        text = repr(value)
        shown.append(f"{name}={text[:120]}{'...' if len(text) > 120 else ''}")
    return "\n  ".join(shown)


@pytest.mark.parametrize("target", TARGETS, ids=[target.id for target in TARGETS])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=IN_CI,
    database=None,
    # A submission of one of the larger forms (dozens of fields) takes longer to draw than hypothesis expects.
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_form_never_fails_and_a_refusal_writes_nothing(target, benches, server_errors, data):
    bench = benches[target.id]
    index, pairs = data.draw(bench.submissions, label="submission")
    form = bench.forms[index]
    bench.restore_session()
    before = fingerprint()
    server_errors.tracebacks.clear()

    response = bench.post(pairs, form.multipart)

    status = response.status_code
    sent = f"POST {bench.url} as {target.who or 'nobody'}:\n  {_show(pairs)}"
    assert status < 500, f"{status} for {sent}\n{server_errors.last()}"
    assert 200 <= status < 500, f"{status} for {sent}"
    if _refused(response):
        moved = changes(before, fingerprint())
        wrote = {
            key: (was, now)
            for key, (was, now) in moved.items()
            if not (key in target.refusal_writes and now == was + 1)
        }
        assert not wrote, f"refused with {status} but wrote {wrote} for {sent}"
    if 300 <= status < 400:
        location = urlsplit(response.headers.get("Location", ""))
        assert location.netloc in ("", "localhost"), f"redirected off the site to {location.geturl()} for {sent}"
