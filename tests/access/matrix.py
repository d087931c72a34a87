"""Who may do what: every route of the app, asked by every kind of person, and what each should get.

tests/access/test_matrix.py sends every request below as every actor and compares the answer with
the table; it fails if a route in the app's URL map has no row here, or a row names a route that
no longer exists. A change to who may do what is a change to this table, reviewed like code.

Answers (one word each)
    ok     2xx: shown, or done
    go     3xx to somewhere other than the sign-in page (done, or sent on: the form's page, the home page)
    in     3xx to the sign-in page: for someone not signed in, the refusal "sign in first"; for someone
           signed in it is an answer like `go` (signing out ends there)
    401    the API: no token, or not a valid one (a signed-in browser is not a token)
    403    refused: signed in, and may see the thing, but this is not theirs to do (or the page is for
           another role)
    404    refused without saying whether the thing exists: it is someone else's
    409    allowed, but out of date: the empty form named no version, or the API body a stale one
    422    allowed, and the empty (or deliberately unacceptable) request was refused on its merits:
           the permission check was passed, and nothing was saved
    400    the same, from the few pages that answer a form they cannot read with 400
    410    gone for this person, saying why (a revoked certificate, for its holder)
A cell ending in `!` is a known defect: the cell says what should happen, DEFECTS says what happens
today and why that is wrong. Refusals (`in` for someone not signed in, 401, 403, 404) must change
nothing at all in the database.

Who asks (columns)
    anon   nobody signed in
    tr     Tara, the trainee the world is built around (service "home"): her own records
    otr    Owen, another trainee in the same service, unrelated to her records
    sup    Sian, Tara's personal supervisor
    csup   Carl, a supervisor in Tara's service who supervises Owen, not Tara
    xsup   Xena, a supervisor in another service ("away")
    acc    Alma, the accrediting supervisor asked to accredit Tara's Stage 1
    oacc   Otto, an accrediting supervisor nobody asked
    prac   Nina, an accredited practitioner in the other service, with her own cases and certificates
    lead   Lena, the service lead of Tara's service
    xlead  Xavi, the service lead of the other service
    clead  Cora, a supervisor who leads Tara's cohort
    admin  Ada, an AVIGuk administrator with no part in Tara's training
The API table's columns are the same people, each with a token holding every scope, and first
    none   no token
    sess   Tara signed in on the site (a session cookie), with no token
    scope  a token of Tara's that lacks the scope the route needs (any token, where it needs none)

Requests
    Addresses are filled from the world (tests/access/world.py): {enrolment} Tara's enrolment, {stage}
    her Stage 1 (with Alma), {record} its id, {earned} her finished introductory course, {case} her
    case with {cycle}, {administration} (a GAD-7) and {invitation} (a link for her client, whose
    token is {respond_token}), {session} a session awaiting Sian's confirmation, {confirmed_session}
    a confirmed one, {certificate} and {revoked_certificate} Nina's, {transcript} her training transcript,
    {trainee} Tara's account,
    {supervisor} Sian's, {service} Tara's service, {lead} its lead, {region} its region, {cohort} her
    cohort, {token} her API token, {job} a bulk issue, {message} an email in the outbox, {wording}
    her service's licensed wording, {notification} an unread notification of Tara's, {scheduled_job}
    a scheduled job, {import} a staged import of one person already present, {invite_token} and
    {reset_token} one-time links, {pathway}/{version} the
    current VIG pathway and {pathway_version} its id, {other_service} the other service (Xavi's),
    {other_cohort} a cohort Cora does not lead.
    GET is sent as it is. A POST on the site carries only the actor's CSRF token (an empty form), so
    nothing legitimate is made; an API request with a body sends API_BODIES, each valid in shape
    but refused by the rules (a date in the future, a stale version, a measure the service may not
    send), so an allowed caller gets 422 or 409 and a refused one 401, 403 or 404.
"""

from __future__ import annotations

from dataclasses import dataclass

WEB_ACTORS = ("anon", "tr", "otr", "sup", "csup", "xsup", "acc", "oacc", "prac", "lead", "xlead", "clead", "admin")
API_ACTORS = ("none", "sess", "scope", *WEB_ACTORS[1:])
CODES = frozenset({"ok", "go", "in", "400", "401", "403", "404", "409", "410", "422"})

# Routes the matrix does not ask about, and why.
NOT_ASKED = {
    "static": "stylesheets, scripts, fonts and images under static/: the same public files for everyone",
}

# (row, actor) -> what happens today and why the table's answer is the right one.
DEFECTS: dict[tuple[str, str], str] = {}

WEB = """
## The front door, the home page, the health check
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /
        in    go    go    go    go    go    go    go    go    go    go    go    go
GET /home
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /healthz
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /readyz
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok

## Signing in and out, and one-time links (public by design)
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /login
        ok    go    go    go    go    go    go    go    go    go    go    go    go
POST /login
        422   go    go    go    go    go    go    go    go    go    go    go    go
# Nobody is half-way through signing in with a second factor: everyone goes back to sign in.
GET /login/security-code
        in    in    in    in    in    in    in    in    in    in    in    in    in
POST /login/security-code
        in    in    in    in    in    in    in    in    in    in    in    in    in
# Signed in, `in` is the answer to signing out; nobody can sign anyone else out.
POST /logout
        in    in    in    in    in    in    in    in    in    in    in    in    in
GET /password/forgot
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /password/forgot
        422   422   422   422   422   422   422   422   422   422   422   422   422
# One-time links are the key themselves: whoever holds Tara's link sees its form (by design).
GET /password/reset/{reset_token}
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /password/reset/{reset_token}
        422   422   422   422   422   422   422   422   422   422   422   422   422
GET /invitation/{invite_token}
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /invitation/{invite_token}
        422   422   422   422   422   422   422   422   422   422   422   422   422

## One's own account (whoever is signed in: there is no one else's)
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /account
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /account/details
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
# An empty form keeps one's name as it is.
POST /account/details
        in    go    go    go    go    go    go    go    go    go    go    go    go
GET /account/password
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /account/password
        in    422   422   422   422   422   422   422   422   422   422   422   422
GET /account/two-factor
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /account/two-factor
        in    422   422   422   422   422   422   422   422   422   422   422   422
# Nobody here has a second factor yet, so these pages send them to set one up or to their account.
GET /account/two-factor/recovery-codes
        in    go    go    go    go    go    go    go    go    go    go    go    go
POST /account/two-factor/recovery-codes
        in    go    go    go    go    go    go    go    go    go    go    go    go
GET /account/two-factor/turn-off
        in    go    go    go    go    go    go    go    go    go    go    go    go
POST /account/two-factor/turn-off
        in    go    go    go    go    go    go    go    go    go    go    go    go

## API tokens: one's own, and the trainee's token ({token}) for everyone else
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /account/tokens
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /account/tokens/new
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /account/tokens/new
        in    422   422   422   422   422   422   422   422   422   422   422   422
# Tara's token: she and administrators may revoke it (security.can_revoke_api_token).
GET /account/tokens/{token}/revoke
        in    ok    404   404   404   404   404   404   404   404   404   404   ok
POST /account/tokens/{token}/revoke
        in    go    404   404   404   404   404   404   404   404   404   404   go
GET /admin/users/{trainee}/tokens
        in    403   403   403   403   403   403   403   403   403   403   403   ok

## Subject access: everyone downloads their own data; administrators anyone's (security.can_export_personal_data)
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /account/my-data
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
# The button is the whole form: a POST with its CSRF token is the download (and its audit event).
POST /account/my-data
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
# Tara's data: nobody but an administrator, whatever their part in her training.
GET /admin/users/{trainee}/data
        in    403   403   403   403   403   403   403   403   403   403   403   ok
# The administrator must name the request the download answers: an empty form is refused.
POST /admin/users/{trainee}/data
        in    403   403   403   403   403   403   403   403   403   403   403   422

## Erasure: administrators only, never themselves (security.can_erase_person)
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /admin/erasure/
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/erasure/{trainee}
        in    403   403   403   403   403   403   403   403   403   403   403   ok
# An empty form has no reason and no typed email: refused, nothing erased.
POST /admin/erasure/{trainee}
        in    403   403   403   403   403   403   403   403   403   403   403   422

## Account administration (the trainee's account, her service and its lead)
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /admin/users/
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/users/invite
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/users/invite
        in    403   403   403   403   403   403   403   403   403   403   403   422
GET /admin/users/{trainee}
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/users/{trainee}/edit
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/users/{trainee}/edit
        in    403   403   403   403   403   403   403   403   403   403   403   422
POST /admin/users/{trainee}/resend-invitation
        in    403   403   403   403   403   403   403   403   403   403   403   go
POST /admin/users/{trainee}/unlock
        in    403   403   403   403   403   403   403   403   403   403   403   go
POST /admin/users/{trainee}/reset-two-factor
        in    403   403   403   403   403   403   403   403   403   403   403   go
GET /admin/users/service-leads/{service}
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/users/service-leads/{service}
        in    403   403   403   403   403   403   403   403   403   403   403   422
POST /admin/users/service-leads/{service}/{lead}/stand-down
        in    403   403   403   403   403   403   403   403   403   403   403   go
GET /admin/audit
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/outbox/
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/outbox/{message}
        in    403   403   403   403   403   403   403   403   403   403   403   ok

## Notifications: one's own (the trainee's notification {notification} is hers alone), and the jobs
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /notifications
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /notifications?show=unread&page=2
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
# Someone else's notification is not found, whoever asks (administrators included).
GET /notifications/{notification}
        in    ok    404   404   404   404   404   404   404   404   404   404   404
POST /notifications/{notification}/read
        in    go    404   404   404   404   404   404   404   404   404   404   404
# Without `up_to`, everything of one's own that is unread.
POST /notifications/read-all
        in    go    go    go    go    go    go    go    go    go    go    go    go
GET /notifications/settings
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
# An empty form keeps every choice as it is (and says nothing changed).
POST /notifications/settings
        in    go    go    go    go    go    go    go    go    go    go    go    go
GET /admin/jobs
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/jobs/{scheduled_job}
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/jobs/no-such-job
        in    403   403   403   403   403   403   403   403   403   403   403   404
# {scheduled_job} has run today: an administrator is told so, and it does not run again.
POST /admin/jobs/{scheduled_job}/run
        in    403   403   403   403   403   403   403   403   403   403   403   go
POST /admin/jobs/no-such-job/run
        in    403   403   403   403   403   403   403   403   403   403   403   404
# The retention schedule and what its job last purged: administrators (security.can_run_jobs).
GET /admin/erasure/retention
        in    403   403   403   403   403   403   403   403   403   403   403   ok

## Services and their licensed measure wording
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /admin/services/
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/services/new
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/services/new
        in    403   403   403   403   403   403   403   403   403   403   403   422
GET /admin/services/{service}/edit
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/services/{service}/edit
        in    403   403   403   403   403   403   403   403   403   403   403   go
GET /admin/services/{service}/licensed-wording/
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/services/{service}/licensed-wording/EPDS/new
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/services/{service}/licensed-wording/EPDS/new
        in    403   403   403   403   403   403   403   403   403   403   403   422
GET /admin/services/{service}/licensed-wording/{wording}/remove
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/services/{service}/licensed-wording/{wording}/remove
        in    403   403   403   403   403   403   403   403   403   403   403   go

## Pathways (reference data for anyone signed in)
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /pathways
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /pathways/{pathway}/{version}
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok

## The trainee's enrolment
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
# 404 for whoever may not see her record; 403 for those who see it when the change is not theirs.
# Service leads and cohort leads see progress on their own pages, never the record itself.
GET /enrolments/{enrolment}
        in    ok    404   ok    404   404   ok    404   404   404   404   404   ok
GET /enrolments/{enrolment}/supervisor
        in    403   404   ok    404   404   403   404   404   404   404   404   ok
POST /enrolments/{enrolment}/supervisor
        in    403   404   422   404   404   403   404   404   404   404   404   422
GET /enrolments/{enrolment}/status
        in    403   404   ok    404   404   403   404   404   404   404   404   ok
POST /enrolments/{enrolment}/status
        in    403   404   422   404   404   403   404   404   404   404   404   422
GET /enrolments/new
        in    403   403   ok    ok    ok    403   403   403   403   403   ok    ok
POST /enrolments/new
        in    403   403   422   422   422   403   403   403   403   403   422   422

## Her Stage 1, with the accrediting supervisor: the page, the sign-off chain's actions, assessments, statement
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /enrolments/{enrolment}/stages/{stage}
        in    ok    404   ok    404   404   ok    404   404   404   404   404   ok
# Alma sees the whole record while her part lasts (security._accrediting), not only Stage 1.
GET /enrolments/{enrolment}/stages/itc
        in    ok    404   ok    404   404   ok    404   404   404   404   404   ok
# Each action is its workflow row's: submit Tara; sign-off and return Sian; attendance and
# accreditor Sian or an administrator; meeting Alma; ratify and exemption an administrator.
POST /enrolments/{enrolment}/stages/{stage}/submit
        in    422   404   403   404   404   403   404   404   404   404   404   403
POST /enrolments/{enrolment}/stages/{stage}/sign-off
        in    403   404   422   404   404   403   404   404   404   404   404   403
POST /enrolments/{enrolment}/stages/{stage}/return
        in    403   404   422   404   404   403   404   404   404   404   404   403
POST /enrolments/{enrolment}/stages/{stage}/attendance
        in    403   404   422   404   404   403   404   404   404   404   404   422
POST /enrolments/{enrolment}/stages/{stage}/accreditor
        in    403   404   422   404   404   403   404   404   404   404   404   422
POST /enrolments/{enrolment}/stages/{stage}/meeting
        in    403   404   403   404   404   422   404   404   404   404   404   403
POST /enrolments/{enrolment}/stages/{stage}/ratify
        in    403   404   403   404   404   403   404   404   404   404   404   422
POST /enrolments/{enrolment}/stages/{stage}/exemption
        in    403   404   403   404   404   403   404   404   404   404   404   422
GET /enrolments/{enrolment}/stages/{stage}/assessment/self
        in    ok    404   403   404   404   403   404   404   404   404   404   403
POST /enrolments/{enrolment}/stages/{stage}/assessment/self
        in    422   404   403   404   404   403   404   404   404   404   404   403
GET /enrolments/{enrolment}/stages/{stage}/assessment/supervisor
        in    403   404   ok    404   404   403   404   404   404   404   404   403
POST /enrolments/{enrolment}/stages/{stage}/assessment/supervisor
        in    403   404   422   404   404   403   404   404   404   404   404   403
GET /enrolments/{enrolment}/stages/{stage}/assessments
        in    ok    404   ok    404   404   ok    404   404   404   404   404   ok
GET /enrolments/{enrolment}/stages/{stage}/statement
        in    ok    404   403   404   404   403   404   404   404   404   404   403
POST /enrolments/{enrolment}/stages/{stage}/statement
        in    422   404   403   404   404   403   404   404   404   404   404   403
GET /enrolments/{enrolment}/stages/{stage}/statement/file
        in    ok    404   ok    404   404   ok    404   404   404   404   404   ok

## Choosing a person by search: each purpose, about her record where it names one
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
# Each purpose has its searchers: whoever may enrol (supervisors, within their own service), whoever
# manages the enrolment or asks for an accreditor, the trainee naming a session's supervisor, administrators.
GET /people/search?for=enrol_trainee&q=pe
        in    404   404   ok    ok    ok    404   404   404   404   404   ok    ok
GET /people/search?for=enrol_supervisor&q=pe
        in    404   404   ok    ok    ok    404   404   404   404   404   ok    ok
GET /people/search?for=change_supervisor&context={enrolment}&q=pe
        in    404   404   ok    404   404   404   404   404   404   404   404   ok
GET /people/search?for=accreditor&context={record}&q=pe
        in    404   404   ok    404   404   404   404   404   404   404   404   ok
GET /people/search?for=session_supervisor&context={enrolment}&q=pe
        in    ok    404   404   404   404   404   404   404   404   404   404   404
GET /people/search?for=cohort_lead&q=pe
        in    404   404   404   404   404   404   404   404   404   404   404   ok
GET /people/search?for=service_lead&context={service}&q=pe
        in    404   404   404   404   404   404   404   404   404   404   404   ok

## Queues and lists
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /accreditation
        in    403   403   403   403   403   ok    ok    403   403   403   403   403
GET /supervisor/trainees
        in    403   403   ok    ok    ok    403   403   403   403   403   ok    403
GET /service/staff
        in    403   403   403   403   403   403   403   403   ok    ok    403   403
GET /admin/ratification
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/records
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/records.csv
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/capacity
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/capacity/{supervisor}
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/capacity/{supervisor}
        in    403   403   403   403   403   403   403   403   403   403   403   go

## Cohorts: administrators run them; the trainee's cohort is led by clead
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /admin/cohorts/
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/cohorts/new
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/cohorts/new
        in    403   403   403   403   403   403   403   403   403   403   403   422
GET /admin/cohorts/{cohort}/edit
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/cohorts/{cohort}/edit
        in    403   403   403   403   403   403   403   403   403   403   403   422
POST /admin/cohorts/{cohort}/members
        in    403   403   403   403   403   403   403   403   403   403   403   go
POST /admin/cohorts/{cohort}/members/{enrolment}/remove
        in    403   403   403   403   403   403   403   403   403   403   403   go
POST /admin/cohorts/members
        in    403   403   403   403   403   403   403   403   403   403   403   go
GET /cohorts/{cohort}
        in    404   404   404   404   404   404   404   404   404   404   ok    ok

## Supervision: her log, a session awaiting her supervisor ({session}) and a confirmed one
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
# Supervisors with no training of their own are sent to their confirmation queue.
GET /supervision
        in    ok    ok    go    go    go    ok    ok    ok    ok    ok    go    ok
# The own-log page takes only one's own enrolments; supervisors read hers at /supervision/trainees.
GET /supervision?enrolment={enrolment}
        in    ok    404   404   404   404   404   404   404   404   404   404   404
GET /supervision/trainees/{enrolment}
        in    go    404   ok    404   404   ok    404   404   404   404   404   ok
# Without ?enrolment: the form for one's only loggable record (Nina's is her continuing record,
# after her accreditation), or a page saying there is none.
GET /supervision/new
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /supervision/new
        in    422   422   422   422   ok    ok    ok    422   ok    ok    ok    ok
# Only Tara and Sian log in her record. Those who may read her log (Alma, an administrator) are told
# so (403); for everyone else the record does not exist (404).
GET /supervision/new?enrolment={enrolment}
        in    ok    404   ok    404   404   403   404   404   404   404   404   403
POST /supervision/new?enrolment={enrolment}
        in    422   404   422   404   404   403   404   404   404   404   404   403
GET /supervision/group/new
        in    403   403   ok    ok    ok    403   403   403   403   403   ok    403
POST /supervision/group/new
        in    403   403   422   422   422   403   403   403   403   403   422   403
GET /supervision/{session}
        in    ok    404   ok    404   404   ok    404   404   404   404   404   ok
GET /supervision/{session}/edit
        in    ok    404   403   404   404   403   404   404   404   404   404   403
POST /supervision/{session}/edit
        in    422   404   403   404   404   403   404   404   404   404   404   403
# Sian passes the check; the empty form names no version, so it is out of date (409).
POST /supervision/{session}/review
        in    403   404   409   404   404   403   404   404   404   404   404   403
GET /supervision/{confirmed_session}/correct
        in    ok    404   ok    404   404   403   404   404   404   404   404   403
POST /supervision/{confirmed_session}/correct
        in    422   404   422   404   404   403   404   404   404   404   404   403
GET /supervision/queue
        in    403   403   ok    ok    ok    403   403   403   403   403   ok    403
POST /supervision/queue
        in    403   403   422   422   422   403   403   403   403   403   422   403
GET /supervision/export.csv?enrolment={enrolment}
        in    ok    404   ok    404   404   ok    404   404   404   404   404   ok
GET /supervision/record.pdf?enrolment={enrolment}
        in    ok    404   ok    404   404   ok    404   404   404   404   404   ok

## Casework: her case, its cycles
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
# Cases are kept by practitioners and trainees; her supervisor reads hers while supervising her.
GET /cases
        in    ok    ok    403   403   403   403   403   ok    403   403   403   403
GET /cases/new
        in    ok    ok    403   403   403   403   403   ok    403   403   403   403
POST /cases/new
        in    422   422   403   403   403   403   403   422   403   403   403   403
# The everyday actions from home: the case is chosen on the form, from the person's own open cases.
GET /cycles/new
        in    ok    ok    403   403   403   403   403   ok    403   403   403   403
POST /cycles/new
        in    422   422   403   403   403   403   403   422   403   403   403   403
GET /measures/record
        in    ok    ok    403   403   403   403   403   ok    403   403   403   403
POST /measures/record
        in    422   422   403   403   403   403   403   422   403   403   403   403
GET /cases/{case}
        in    ok    404   ok    404   404   404   404   404   404   404   404   ok
GET /cases/{case}/edit
        in    ok    404   403   404   404   404   404   404   404   404   404   403
POST /cases/{case}/edit
        in    422   404   403   404   404   404   404   404   404   404   404   403
GET /cases/{case}/close
        in    ok    404   403   404   404   404   404   404   404   404   404   403
POST /cases/{case}/close
        in    422   404   403   404   404   404   404   404   404   404   404   403
POST /cases/{case}/reopen
        in    go    404   403   404   404   404   404   404   404   404   404   403
GET /cases/{case}/cycles/new
        in    ok    404   403   404   404   404   404   404   404   404   404   403
POST /cases/{case}/cycles/new
        in    422   404   403   404   404   404   404   404   404   404   404   403
GET /cases/{case}/cycles/{cycle}/delete
        in    ok    404   403   404   404   404   404   404   404   404   404   403
POST /cases/{case}/cycles/{cycle}/delete
        in    422   404   403   404   404   404   404   404   404   404   404   403

## Outcome measures on her case, and the client's link
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /cases/{case}/outcomes
        in    ok    404   ok    404   404   404   404   404   404   404   404   ok
GET /cases/{case}/measures/new
        in    ok    404   403   404   404   404   404   404   404   404   404   403
POST /cases/{case}/measures/new
        in    422   404   403   404   404   404   404   404   404   404   404   403
GET /cases/{case}/measures/GAD-7/post
        in    ok    404   403   404   404   404   404   404   404   404   404   403
POST /cases/{case}/measures/GAD-7/post
        in    422   404   403   404   404   404   404   404   404   404   404   403
GET /cases/{case}/measures/{administration}
        in    ok    404   ok    404   404   404   404   404   404   404   404   ok
GET /cases/{case}/measures/{administration}/delete
        in    ok    404   403   404   404   404   404   404   404   404   404   403
POST /cases/{case}/measures/{administration}/delete
        in    go    404   403   404   404   404   404   404   404   404   404   403
GET /cases/{case}/invitations/new
        in    ok    404   403   404   404   404   404   404   404   404   404   403
POST /cases/{case}/invitations/new
        in    422   404   403   404   404   404   404   404   404   404   404   403
# Tara's one click makes (in this dry run) a link for the post measures and shows it.
POST /cases/{case}/invitations/post
        in    ok    404   403   404   404   404   404   404   404   404   404   403
POST /cases/{case}/invitations/{invitation}/revoke
        in    go    404   403   404   404   404   404   404   404   404   404   403
GET /measures
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /measures/GAD-7
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok

## The client's answer pages: the link is the only key (no sign-in)
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
# The link is the key: the same for everyone, signed in or not.
GET /respond/{respond_token}
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /respond/{respond_token}/GAD-7
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /respond/{respond_token}/GAD-7
        422   422   422   422   422   422   422   422   422   422   422   422   422
GET /respond/thank-you
        404   404   404   404   404   404   404   404   404   404   404   404   404

## Outcome reports: own cases, her service's report, the region and nation
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
# Reports: practitioners and trainees their own cases and service, service leads their service,
# administrators every level; supervisors and accreditors without cases have none.
GET /reports
        in    ok    ok    403   403   403   403   403   ok    ok    ok    403   ok
GET /reports/practitioner
        in    ok    ok    403   403   403   403   403   ok    403   403   403   403
GET /reports/service
        in    go    go    go    go    go    go    go    go    go    go    go    go
GET /reports/service/{service}
        in    ok    ok    404   404   404   404   404   404   ok    404   404   ok
GET /reports/region/{region}
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /reports/national
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /reports/export
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /reports/export
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /reports/export/dictionary.csv
        in    403   403   403   403   403   403   403   403   403   403   403   ok

## Training flow: administrators any scope, a service lead their own service, a cohort's lead that cohort
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
# Without a scope each reader gets their first (Lena and Xavi their own service, Cora her cohort, an
# administrator everyone); nobody else has one to read. Regions and "all" are for administrators
# (security.can_view_regional_flow), a service for its lead (can_view_service_flow), a cohort for
# its lead (can_view_cohort). A scope that names nothing, or is not a scope, is not found.
GET /training-flow/
        in    403   403   403   403   403   403   403   403   ok    ok    ok    ok
GET /training-flow/?scope=all
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /training-flow/?scope=region:{region}
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /training-flow/?scope=service:{service}
        in    403   403   403   403   403   403   403   403   ok    403   403   ok
GET /training-flow/?scope=service:{other_service}
        in    403   403   403   403   403   403   403   403   403   ok    403   ok
GET /training-flow/?scope=cohort:{cohort}
        in    403   403   403   403   403   403   403   403   403   403   ok    ok
GET /training-flow/?scope=cohort:{other_cohort}
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /training-flow/?scope=service:999999
        in    403   403   403   403   403   403   403   403   404   404   404   404
GET /training-flow/?scope=everyone
        in    403   403   403   403   403   403   403   403   404   404   404   404
# Trainees held up now, by the same rule; an unreadable number of weeks is refused after the check.
GET /training-flow/stuck
        in    403   403   403   403   403   403   403   403   ok    ok    ok    ok
GET /training-flow/stuck?scope=all
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /training-flow/stuck?scope=region:{region}
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /training-flow/stuck?scope=service:{service}
        in    403   403   403   403   403   403   403   403   ok    403   403   ok
GET /training-flow/stuck?scope=cohort:{cohort}
        in    403   403   403   403   403   403   403   403   403   403   ok    ok
GET /training-flow/stuck?scope=service:{service}&weeks=0
        in    403   403   403   403   403   403   403   403   400   403   403   400
# Working the figures out again, and the cost rates: administrators (can_refresh_flow, can_set_cost_rates).
POST /training-flow/refresh
        in    403   403   403   403   403   403   403   403   403   403   403   go
GET /training-flow/rates
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /training-flow/rates/{pathway_version}
        in    403   403   403   403   403   403   403   403   403   403   403   ok
# The empty form has no amounts: refused beside the fields, nothing saved.
POST /training-flow/rates/{pathway_version}
        in    403   403   403   403   403   403   403   403   403   403   403   422
GET /training-flow/rates/999999
        in    403   403   403   403   403   403   403   403   403   403   403   404
# The downloads: the same scopes as the pages, whoever asks.
GET /training-flow/stage-times.csv
        in    403   403   403   403   403   403   403   403   ok    ok    ok    ok
GET /training-flow/stage-times.csv?scope=service:{service}
        in    403   403   403   403   403   403   403   403   ok    403   403   ok
GET /training-flow/stage-times.csv?scope=cohort:{cohort}
        in    403   403   403   403   403   403   403   403   403   403   ok    ok
GET /training-flow/steps.csv
        in    403   403   403   403   403   403   403   403   ok    ok    ok    ok
GET /training-flow/steps.csv?scope=service:{service}
        in    403   403   403   403   403   403   403   403   ok    403   403   ok
GET /training-flow/steps.csv?scope=cohort:{cohort}
        in    403   403   403   403   403   403   403   403   403   403   ok    ok
GET /training-flow/survival.csv
        in    403   403   403   403   403   403   403   403   ok    ok    ok    ok
GET /training-flow/survival.csv?scope=service:{service}
        in    403   403   403   403   403   403   403   403   ok    403   403   ok
GET /training-flow/survival.csv?scope=cohort:{cohort}
        in    403   403   403   403   403   403   403   403   403   403   ok    ok
GET /training-flow/costs.csv
        in    403   403   403   403   403   403   403   403   ok    ok    ok    ok
GET /training-flow/costs.csv?scope=service:{service}
        in    403   403   403   403   403   403   403   403   ok    403   403   ok
GET /training-flow/costs.csv?scope=cohort:{cohort}
        in    403   403   403   403   403   403   403   403   403   403   ok    ok
GET /training-flow/stuck.csv
        in    403   403   403   403   403   403   403   403   ok    ok    ok    ok
GET /training-flow/stuck.csv?scope=service:{service}
        in    403   403   403   403   403   403   403   403   ok    403   403   ok
GET /training-flow/stuck.csv?scope=cohort:{cohort}
        in    403   403   403   403   403   403   403   403   403   403   ok    ok
GET /training-flow/stage-times.csv?scope=all
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /training-flow/stage-times.csv?scope=region:{region}
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /training-flow/stage-times.csv?scope=service:{other_service}
        in    403   403   403   403   403   403   403   403   403   ok    403   ok
GET /training-flow/costs.csv?scope=cohort:999999
        in    403   403   403   403   403   403   403   403   404   404   404   404
GET /training-flow/stuck.csv?scope=cohort:{cohort}&weeks=many
        in    403   403   403   403   403   403   403   403   403   403   400   400

## Certificates: prac's valid certificate ({certificate}) and her revoked one
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /certificates
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /certificates/{certificate}.pdf
        in    404   404   404   404   404   404   404   ok    404   404   404   ok
GET /certificates/{certificate}/credential.jwt
        in    404   404   404   404   404   404   404   ok    404   404   404   ok
GET /certificates/{certificate}/credential.json
        in    404   404   404   404   404   404   404   ok    404   404   404   ok
# A revoked certificate is gone for its holder (410, saying why); administrators still download it.
GET /certificates/{revoked_certificate}.pdf
        in    404   404   404   404   404   404   404   410   404   404   404   ok
GET /certificates/{revoked_certificate}/credential.jwt
        in    404   404   404   404   404   404   404   410   404   404   404   ok
GET /certificates/{revoked_certificate}/credential.json
        in    404   404   404   404   404   404   404   410   404   404   404   ok
# Only the holder asks AVIGuk to renew (refused on its merits: her renewal is not open yet); an
# administrator sees the certificate but does not ask for someone else.
POST /certificates/{certificate}/renewal-request
        in    404   404   404   404   404   404   404   422   404   404   404   403
# Only the holder adds a certificate to a digital wallet (security.can_offer_to_wallet): the empty form
# makes an offer and shows it; an administrator sees the certificate but does not take someone else's.
GET /certificates/{certificate}/wallet
        in    404   404   404   404   404   404   404   ok    404   404   404   403
POST /certificates/{certificate}/wallet
        in    404   404   404   404   404   404   404   go    404   404   404   403
# A revoked certificate's page says why it cannot go to a wallet; making an offer is refused on its merits.
GET /certificates/{revoked_certificate}/wallet
        in    404   404   404   404   404   404   404   ok    404   404   404   403
POST /certificates/{revoked_certificate}/wallet
        in    404   404   404   404   404   404   404   422   404   404   404   403
# Training transcripts: everyone may make their own (refused on its merits with no training to record);
# {transcript} is prac's, seen only by her and administrators; an administrator makes one for Tara.
GET /certificates/transcripts
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /certificates/transcripts
        in    go    go    422   422   422   422   422   go    422   422   422   422
GET /certificates/transcripts/{transcript}
        in    404   404   404   404   404   404   404   ok    404   404   404   ok
GET /certificates/transcripts/{transcript}.pdf
        in    404   404   404   404   404   404   404   ok    404   404   404   ok
GET /certificates/transcripts/{transcript}/credential.jwt
        in    404   404   404   404   404   404   404   ok    404   404   404   ok
POST /admin/certificates/people/{trainee}/transcripts
        in    403   403   403   403   403   403   403   403   403   403   403   go
GET /admin/certificates
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/certificates/{certificate}
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/certificates/{certificate}/renew
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/certificates/{certificate}/renew
        in    403   403   403   403   403   403   403   403   403   403   403   422
GET /admin/certificates/{certificate}/revoke
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/certificates/{certificate}/revoke
        in    403   403   403   403   403   403   403   403   403   403   403   422
# Suspending needs a reason; reinstating a certificate that is not suspended is refused on its merits.
GET /admin/certificates/{certificate}/suspend
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/certificates/{certificate}/suspend
        in    403   403   403   403   403   403   403   403   403   403   403   422
GET /admin/certificates/{certificate}/reinstate
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/certificates/{certificate}/reinstate
        in    403   403   403   403   403   403   403   403   403   403   403   422
GET /admin/certificates/{certificate}/reissue
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/certificates/{certificate}/reissue
        in    403   403   403   403   403   403   403   403   403   403   403   422
GET /admin/certificates/to-issue
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/certificates/to-issue
        in    403   403   403   403   403   403   403   403   403   403   403   422
# Her finished introductory course has earned a stage certificate not yet issued.
GET /admin/certificates/issue/{earned}
        in    403   403   403   403   403   403   403   403   403   403   403   ok
POST /admin/certificates/issue/{earned}
        in    403   403   403   403   403   403   403   403   403   403   403   go
GET /admin/certificates/bulk/{job}
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/certificates/bulk/{job}/progress.json
        in    403   403   403   403   403   403   403   403   403   403   403   ok

## Bulk import of people (administrators only)
GET /admin/import/
        in    403   403   403   403   403   403   403   403   403   403   403   ok
# An empty form names no file: refused beside the field.
POST /admin/import/
        in    403   403   403   403   403   403   403   403   403   403   403   422
GET /admin/import/template.csv
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/import/columns.csv
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/import/template.xlsx
        in    403   403   403   403   403   403   403   403   403   403   403   ok
GET /admin/import/{import}
        in    403   403   403   403   403   403   403   403   403   403   403   ok
# Confirming the staged import: its one person is already present, so nobody is added.
POST /admin/import/{import}
        in    403   403   403   403   403   403   403   403   403   403   403   go
GET /admin/import/{import}/progress.json
        in    403   403   403   403   403   403   403   403   403   403   403   ok

## Public verification, the documents verifiers fetch, the register
#       anon  tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /verify
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /verify/{certificate}
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /verify/{transcript}
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /verify/{certificate}.json
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /verify/{transcript}.json
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /verify/credential
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /verify/credential
        422   422   422   422   422   422   422   422   422   422   422   422   422
GET /.well-known/jwks.json
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /.well-known/did.json
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /did.json
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /issuer
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /status/revocation
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /status/suspension
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /achievements/{pathway}/{version}
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /achievements/{pathway}/{version}/stages/1
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /principles/attentive
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
# OpenID4VCI, for wallets' software (public; no session is read): the metadata and a nonce for anyone;
# an offer link that matches no code 404, a token request without a grant 400, a credential request
# without an access token 401.
GET /.well-known/openid-credential-issuer
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /.well-known/oauth-authorization-server
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /openid4vci/offers/unknown
        404   404   404   404   404   404   404   404   404   404   404   404   404
POST /openid4vci/token
        400   400   400   400   400   400   400   400   400   400   400   400   400
POST /openid4vci/nonce
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /openid4vci/credential
        401   401   401   401   401   401   401   401   401   401   401   401   401
GET /register
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
# Anyone signed in chooses their own listing; only current accreditation puts them in the register.
GET /register/you
        in    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
POST /register/you
        in    422   422   422   422   422   422   422   422   422   422   422   422
"""

API = """
## Public to any caller
#       none  sess  scope tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /api/v1/openapi.json
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
# The documentation page may show who is signed in; the API itself never reads the cookie.
GET /api/v1/docs
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /api/v1/certificates/{certificate}
        ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok

## Any valid token
#       none  sess  scope tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /api/v1/me
        401   401   ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /api/v1/measures
        401   401   ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /api/v1/measures/GAD-7
        401   401   ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok

## cases:read and cases:write, on the trainee's case
#       none  sess  scope tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
# The same rules as the pages: her supervisor reads her case, only she changes it.
GET /api/v1/cases
        401   401   403   ok    ok    403   403   403   403   403   ok    403   403   403   403
POST /api/v1/cases
        401   401   403   422   422   403   403   403   403   403   422   403   403   403   403
GET /api/v1/cases/{case}
        401   401   403   ok    404   ok    404   404   404   404   404   404   404   404   ok
GET /api/v1/cases/{case}/outcomes
        401   401   403   ok    404   ok    404   404   404   404   404   404   404   404   ok
POST /api/v1/cases/{case}/administrations
        401   401   403   422   404   403   404   404   404   404   404   404   404   404   403
GET /api/v1/cases/{case}/invitations
        401   401   403   ok    404   ok    404   404   404   404   404   404   404   404   ok
POST /api/v1/cases/{case}/invitations
        401   401   403   422   404   403   404   404   404   404   404   404   404   404   403
DELETE /api/v1/cases/{case}/invitations/{invitation}
        401   401   403   ok    404   403   404   404   404   404   404   404   404   404   403

## enrolments:read, supervision:read and supervision:write, on her record
#       none  sess  scope tr    otr   sup   csup  xsup  acc   oacc  prac  lead  xlead clead admin
GET /api/v1/enrolments/{enrolment}/progress
        401   401   403   ok    404   ok    404   404   ok    404   404   404   404   404   ok
GET /api/v1/supervision-sessions
        401   401   403   ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
GET /api/v1/supervision-sessions?enrolment={enrolment}
        401   401   403   ok    404   ok    404   404   ok    404   404   404   404   404   ok
# A token logs sessions only in its owner's own record; everyone's future date is refused (422).
POST /api/v1/supervision-sessions
        401   401   403   422   422   422   422   422   422   422   422   422   422   422   422
# Sian passes the check and her stale version is refused (409); Tara and Alma, who may see the
# session, 403; everyone else 404.
POST /api/v1/supervision-sessions/{session}/confirm
        401   401   403   403   404   409   404   404   403   404   404   404   404   404   403
"""

API_BODIES: dict[str, dict] = {
    "POST /api/v1/cases": {
        "relationship": "parent_infant",
        "age_band": "0-11m",
        "population": "perinatal",
        "region": "E12000003",
        "started_on": "2099-01-01",
    },
    "POST /api/v1/cases/{case}/administrations": {
        "measure": "GAD-7",
        "timepoint": "post",
        "date": "2099-01-01",
        "responses": {},
    },
    # EPDS wording is withheld and her service holds no licence for it.
    "POST /api/v1/cases/{case}/invitations": {"measures": ["EPDS"], "timepoint": "post"},
    "POST /api/v1/supervision-sessions": {"session_date": "2099-01-01"},
    "POST /api/v1/supervision-sessions/{session}/confirm": {"version": 999},
}


def is_refusal(answer: str, actor: str) -> bool:
    """The answers that must change nothing: `in` counts only for someone not signed in."""
    return answer in {"401", "403", "404"} or (answer == "in" and actor == "anon")


# --- reading the tables ---------------------------------------------------------------------------

METHODS = ("GET", "POST", "DELETE")


@dataclass(frozen=True)
class Row:
    """One line of a table: a request, and what each actor should get back."""

    method: str
    template: str  # the address, with {placeholders} filled from the world
    cells: dict[str, str]  # actor -> expected answer
    section: str
    api: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    def url(self, values: dict[str, str]) -> str:
        return self.template.format_map(values)

    def expected(self, actor: str) -> str:
        return self.cells[actor].rstrip("!")


def parse(text: str, actors: tuple[str, ...], api: bool) -> list[Row]:
    """The rows of a table: a request line, then its answers line (comments and blank lines between)."""
    rows: list[Row] = []
    section, pending = "", None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("## "):
            section = stripped[3:]
            continue
        if not stripped or stripped.startswith("#"):
            continue
        first, _, rest = stripped.partition(" ")
        if first in METHODS:
            assert pending is None, f"line {number}: {pending} has no answers line"
            pending = (first, rest.strip())
            continue
        assert pending is not None, f"line {number}: answers without a request: {stripped!r}"
        cells = stripped.split()
        assert len(cells) == len(actors), f"line {number}: {len(cells)} answers for {len(actors)} actors"
        for cell in cells:
            assert cell.rstrip("!") in CODES, f"line {number}: {cell!r} is not one of {sorted(CODES)}"
        rows.append(Row(pending[0], pending[1], dict(zip(actors, cells, strict=True)), section, api))
        pending = None
    assert pending is None, f"{pending} has no answers line"
    return rows


WEB_ROWS = parse(WEB, WEB_ACTORS, api=False)
API_ROWS = parse(API, API_ACTORS, api=True)
ROWS = WEB_ROWS + API_ROWS
