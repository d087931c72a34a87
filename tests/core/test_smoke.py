from tests.factories import make_admin


def test_admin_signs_in_and_sees_home(client, app):
    make_admin()
    response = client.login("admin@example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"
    page = client.get("/home")
    assert "Hello, Ada Admin" in page.get_data(as_text=True)
