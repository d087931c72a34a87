"""Form structure axe-core does not check: every group of checkboxes or radios is named by a legend."""

from __future__ import annotations

from tests.factories import PASSWORD, make_admin, make_user


def test_checkbox_and_radio_groups_are_named_by_a_legend(browse):
    make_admin()
    other = make_user("tess.trainee@example.org", name="Tess Trainee")
    page = browse.page
    browse.sign_in("admin@example.org", PASSWORD)

    unnamed = []
    for path in ("/admin/users/invite", f"/admin/users/{other.id}/edit", "/admin/services/new"):
        browse.visit(path)
        for fieldset in page.locator("fieldset").all():
            legend = fieldset.locator(":scope > legend")
            if legend.count() == 0 or not legend.inner_text().strip():
                unnamed.append(f"{path}: fieldset containing {fieldset.inner_text()[:60]!r}")
    assert not unnamed, "fieldsets without a legend:\n" + "\n".join(unnamed)
