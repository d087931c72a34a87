"""The header navigation, built from what the signed-in person may use."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from vigtrain.accounts.models import Role, User
from vigtrain.security import (
    can_keep_cases,
    can_log_continuing_supervision,
    can_manage_accounts,
    can_manage_certificates,
    can_manage_cohorts,
    can_manage_services,
    can_read_audit_trail,
    can_read_outbox,
    can_run_jobs,
    can_view_practitioner_report,
    can_view_service_flow,
    can_view_service_report,
    is_administrator,
)


@dataclass(frozen=True)
class NavItem:
    text: str
    endpoint: str
    prefix: str | tuple[str, ...]  # endpoints starting with this (or any of these) mark the item as current

    def as_params(self, current_endpoint: str) -> dict:
        return {
            "href": url_for(self.endpoint),
            "text": self.text,
            "active": current_endpoint.startswith(self.prefix),
            "current": current_endpoint == self.endpoint,  # aria-current="page" on the page itself
        }


def navigation_items(user: User, current_endpoint: str) -> list[dict]:
    items = [NavItem("Home", "core.home", "core.home")]
    if can_keep_cases(user):
        items.append(NavItem("Cases", "casework.list_cases", "casework."))
    if user.has_role(Role.TRAINEE, Role.SUPERVISOR) or (
        user.has_role(Role.PRACTITIONER) and can_log_continuing_supervision(user)
    ):
        items.append(NavItem("Supervision", "supervision.list_sessions", "supervision."))
    if user.has_role(Role.SUPERVISOR):
        items.append(NavItem("Your trainees", "training.my_trainees", "training.my_trainees"))
    if user.has_role(Role.ACCREDITING_SUPERVISOR):
        items.append(NavItem("Accreditation", "training.accreditation_queue", "training.accreditation_queue"))
    if can_view_practitioner_report(user) or can_view_service_report(user, user.service) or is_administrator(user):
        items.append(NavItem("Reports", "reports.index", "reports."))
    if is_administrator(user) or can_view_service_flow(user, user.service):
        items.append(NavItem("Training flow", "flow.overview", "flow."))
    if is_administrator(user):
        items.append(NavItem("Ratification", "training.ratification_queue", "training.ratification_queue"))
        items.append(NavItem("Training records", "training.list_records", "training.list_records"))
    if can_manage_certificates(user):
        items.append(NavItem("Certificates", "certificate_admin.list_certificates", "certificate_admin."))
    if can_manage_accounts(user):
        items.append(NavItem("Users", "users.list_users", ("users.", "imports.")))
    if can_manage_services(user):
        items.append(NavItem("Services", "organisations.list_services", "organisations."))
    if can_manage_cohorts(user):
        items.append(NavItem("Cohorts", "cohorts.list_cohorts", "cohorts."))
    if is_administrator(user):
        items.append(
            NavItem(
                "Capacity", "training.supervisor_capacity", ("training.supervisor_capacity", "training.edit_capacity")
            )
        )
    if is_administrator(user):
        items.append(NavItem("Pathways", "pathways.list_pathways", "pathways.list_pathways"))
    if can_read_outbox(user):
        items.append(NavItem("Outbox", "notifications.list_messages", "notifications."))
    if can_run_jobs(user):
        items.append(NavItem("Jobs", "jobs.list_jobs", "jobs."))
    if can_read_audit_trail(user):
        items.append(NavItem("Audit trail", "core.list_audit_events", "core.list_audit_events"))
    if is_administrator(user):
        items.append(NavItem("Data protection", "erasure.list_erasures", ("erasure.", "retention.")))
    if user.has_role(Role.PRACTITIONER, Role.TRAINEE):
        items.append(NavItem("Your certificates", "certificates.your_certificates", "certificates."))
    items.append(NavItem("Your account", "accounts.show_account", ("accounts.", "api_tokens.")))
    return [item.as_params(current_endpoint) for item in items]
