"""Digital wallets: the holder's "Add to a digital wallet" pages, and the OpenID4VCI protocol endpoints.

The holder's pages join the certificates blueprint (signed in, CSRF-protected like every form). The
protocol endpoints are public JSON for wallets' software: CSRF-exempt (a wallet has no session and
no form; the token and credential endpoints take only what the wallet sends, the code or the bearer
token, so a forged cross-site request carries nothing to act with), rate-limited per address like
the documents verifiers fetch, never cached, and every refusal is the spec's error object (400, or
401 for a missing or bad access token), never a page.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from vigtrain import transactions
from vigtrain.certificates import services, wallet
from vigtrain.certificates.models import Certificate, CredentialOffer
from vigtrain.certificates.views import bp as certificates_bp
from vigtrain.dates import utcnow
from vigtrain.extensions import csrf, db, limiter
from vigtrain.forms import ActionForm, form_status
from vigtrain.qrcodes import qr_svg
from vigtrain.security import can_offer_to_wallet, can_view_certificate, login_required, require

bp = Blueprint("openid4vci", __name__)
csrf.exempt(bp)
limiter.shared_limit(lambda: current_app.config["VERIFY_DOCUMENT_RATE_LIMIT"], scope="openid4vci")(bp)

# The session keeps the code of the holder's latest offer, so the offer page can show it again on
# reload; the database keeps only its digest. {certificate number: [offer id, code]}, one entry.
SESSION_KEY = "wallet_offers"
# A credential request is a few kilobytes; refuse to read more.
MAX_BODY = 64 * 1024


# --- the holder's pages ---------------------------------------------------------------------------


@certificates_bp.app_template_global("wallet_offerable")
def wallet_offerable(certificate: Certificate) -> bool:
    """Whether "Your certificates" offers to add this certificate to a digital wallet."""
    return can_offer_to_wallet(current_user, certificate) and wallet.refusal(certificate) is None


def _holders(number: str) -> Certificate:
    """The certificate, if it is the signed-in person's to send to a wallet; 404 or 403 otherwise."""
    certificate = services.find_certificate(number)
    require(certificate is not None and can_view_certificate(current_user, certificate), "not their certificate", 404)
    require(can_offer_to_wallet(current_user, certificate), "only the holder adds a certificate to a wallet")
    return certificate


def _remembered(certificate: Certificate) -> tuple[CredentialOffer | None, str | None]:
    """The offer this browser made last for the certificate, with its code, if it is still on record."""
    entry = session.get(SESSION_KEY, {}).get(certificate.number)
    if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], int) and isinstance(entry[1], str)):
        return None, None
    offer = db.session.get(CredentialOffer, entry[0])
    if offer is None or offer.certificate_id != certificate.id or offer.code_digest != wallet.digest(entry[1]):
        return None, None
    return offer, entry[1]


def _remember(certificate: Certificate, offer: CredentialOffer, code: str) -> None:
    # Only the newest offer: an older code stops being shown (it expires within minutes anyway), and the
    # cookie never gathers codes.
    session[SESSION_KEY] = {certificate.number: [offer.id, code]}


def _render_offer_page(certificate: Certificate, form: ActionForm | None = None, status: int = 200):
    offer, code = _remembered(certificate)
    state = wallet.offer_state(offer, utcnow()) if offer is not None else None
    link = wallet.offer_link(code) if state is not None and state.open else None
    return render_template(
        "certificates/wallet_offer.html",
        certificate=certificate,
        offer=offer,
        state=state,
        link=link,
        qr=qr_svg(link, title="QR code to add this certificate to a digital wallet") if link else None,
        refusal=wallet.refusal(certificate),
        form=form or ActionForm(),
        minutes=current_app.config["WALLET_OFFER_MINUTES"],
    ), status


@certificates_bp.route("/<number>/wallet")
@login_required
def wallet_offer(number: str):
    """The latest offer of this certificate to a wallet: its QR code and link while it can be used."""
    return _render_offer_page(_holders(number))


@certificates_bp.route("/<number>/wallet", methods=["POST"])
@login_required
def offer_to_wallet(number: str):
    """Make a new offer (a single-use code that works for a few minutes) and show it."""
    certificate = _holders(number)
    form = ActionForm()
    if form.validate_on_submit():
        made = transactions.submit(form, lambda: wallet.create_offer(current_user._get_current_object(), certificate))
        if made:
            offer, code = made.value
            _remember(certificate, offer, code)
            return redirect(url_for("certificates.wallet_offer", number=certificate.number))
    return _render_offer_page(certificate, form, form_status(form))


# --- the protocol endpoints -----------------------------------------------------------------------


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    return response


def _refused(error: wallet.WalletError) -> Response:
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{error.error}"'
    return _json(error.as_json(), error.status, headers)


@bp.route("/.well-known/openid-credential-issuer")
def issuer_metadata():
    paths = {"credential": url_for("openid4vci.credential"), "nonce": url_for("openid4vci.nonce")}
    return _json(wallet.issuer_metadata(paths))


@bp.route("/.well-known/oauth-authorization-server")
def authorization_server_metadata():
    return _json(wallet.authorization_server_metadata(url_for("openid4vci.token")))


@bp.route("/openid4vci/offers/<code>")
def credential_offer(code: str):
    """The Credential Offer an offer link refers to (its address holds the pre-authorised code)."""
    offer = wallet.open_offer(code)
    if offer is None:
        refused = {"error": "invalid_request", "error_description": "This credential offer is unknown, used or expired"}
        return _json(refused, 404)
    return _json(offer)


def _single(name: str) -> str | None:
    """A form parameter sent once (RFC 6749: a parameter must not be repeated), or None if absent."""
    values = request.form.getlist(name)
    if len(values) > 1:
        raise wallet.WalletError("invalid_request", f"{name} is repeated")
    return values[0] if values else None


@bp.route("/openid4vci/token", methods=["POST"])
def token():
    """Exchange a pre-authorised code for a short-lived access token (RFC 6749 section 5)."""
    try:
        if (request.content_length or 0) > MAX_BODY:
            raise wallet.WalletError("invalid_request", "The request is too large")
        grant_type = _single("grant_type")
        if grant_type is None:
            raise wallet.WalletError("invalid_request", "grant_type is missing")
        if grant_type != wallet.PRE_AUTHORIZED_GRANT:
            raise wallet.WalletError("unsupported_grant_type", f"The only grant type is {wallet.PRE_AUTHORIZED_GRANT}")
        code = _single("pre-authorized_code")
        if code is None:
            raise wallet.WalletError("invalid_request", "pre-authorized_code is missing")
        if _single("tx_code") is not None:
            raise wallet.WalletError("invalid_request", "This offer asks for no tx_code")
        access_token, lifetime = transactions.run(lambda: wallet.redeem(code))
    except wallet.WalletError as refused:
        return _refused(refused)
    return _json({"access_token": access_token, "token_type": "Bearer", "expires_in": lifetime})


@bp.route("/openid4vci/nonce", methods=["POST"])
def nonce():
    """A fresh c_nonce for the wallet's key proof."""
    return _json({"c_nonce": wallet.new_nonce()})


def _bearer_token() -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise wallet.WalletError("invalid_token", "Send the access token as Authorization: Bearer <token>", 401)
    return value.strip()


@bp.route("/openid4vci/credential", methods=["POST"])
def credential():
    """The certificate's credential, bound to the key the wallet proves it holds."""
    try:
        access_token = _bearer_token()
        if (request.content_length or 0) > MAX_BODY:
            raise wallet.WalletError("invalid_credential_request", "The request is too large")
        body = request.get_json(silent=True) if request.is_json else None
        if body is None:
            raise wallet.WalletError("invalid_credential_request", "The credential request must be JSON")
        issued = transactions.run(lambda: wallet.deliver(access_token, body))
    except wallet.WalletError as refused:
        return _refused(refused)
    return _json({"credentials": [{"credential": issued}]})
