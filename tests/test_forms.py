"""Forms: each HTML form checks its fields in one place, answers in the reader's language,
keeps what was typed, and stores nothing when it refuses."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from commons import auth as accounts
from commons import media, page_queries, pages
from commons.extensions import db
from commons.models import LoginAttempt, Media, User


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _picture() -> bytes:
    stream = io.BytesIO()
    Image.new("RGB", (32, 24), "blue").save(stream, "PNG")
    return stream.getvalue()


SOURCE = {
    "source_title": "Guide des jardins",
    "source_authors": "Réseau Jardins\nClaire Dupont",
    "source_url": "https://example.org/guide",
    "source_license": "CC-BY-4.0",
}

DECLARED = {
    "title": "Guide des jardins",
    "authors": ["Réseau Jardins", "Claire Dupont"],
    "url": "https://example.org/guide",
    "license": "CC-BY-4.0",
}


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Enter your user name and your password."),
        ("fr", "Saisissez votre nom d’utilisateur et votre mot de passe."),
    ],
)
def test_a_login_without_password_is_explained_and_not_counted_as_a_failure(
    client, member, language, message
) -> None:
    response = client.post(
        "/login", data={"name": member.name}, headers={"Accept-Language": language}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and member.name in html
    assert _count(LoginAttempt) == 0


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "The revision number of the form is not a whole number."),
        ("fr", "Le numéro de révision du formulaire n’est pas un nombre entier."),
    ],
)
def test_an_edit_with_a_broken_revision_number_keeps_the_text_and_saves_nothing(
    client, auth, member, language, message
) -> None:
    pages.save(None, title="Jardin", body="Premier texte.\n", author=member)
    auth.login(member)
    response = client.post(
        "/wiki/jardin/edit",
        data={
            "title": "Jardin",
            "body": "Mon texte précieux.\n",
            "base_revision": "deux",
            "accept_license": "on",
        },
        headers={"Accept-Language": language},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and "Mon texte précieux." in html
    page = page_queries.get("jardin")
    assert page.revision_count == 1 and page.current_revision.body == "Premier texte.\n"


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "Unknown action on an account."), ("fr", "Action inconnue sur un compte.")],
)
def test_an_unknown_action_on_an_account_is_explained_and_changes_nothing(
    client, auth, admin, member, language, message
) -> None:
    auth.login(admin)
    response = client.post(
        f"/admin/users/{member.id}",
        data={"action": "promote", "role": "editor"},
        headers={"Accept-Language": language},
    )
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert accounts.find_user(member.name).role == "member"


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "The two passwords differ."), ("fr", "Les deux mots de passe ne correspondent pas.")],
)
def test_a_registration_with_two_passwords_is_refused_in_the_reader_language(
    client, language, message
) -> None:
    response = client.post(
        "/register",
        data={"name": "Noémie", "password": "un mot de passe", "password_confirm": "un autre"},
        headers={"Accept-Language": language},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and "Noémie" in html
    assert _count(User) == 0


def test_the_editor_and_the_upload_read_the_same_source_fields(client, auth, member) -> None:
    auth.login(member)
    saved = client.post(
        "/wiki/potager/edit",
        data={"title": "Potager", "body": "Adapté du guide.\n", "accept_license": "on", **SOURCE},
    )
    uploaded = client.post(
        "/media/upload",
        data={"file": (io.BytesIO(_picture()), "plan.png"), "license": "CC-BY-4.0", **SOURCE},
    )
    assert saved.status_code == uploaded.status_code == 302
    assert page_queries.get("potager").source == DECLARED
    assert media.get("plan.png").source == DECLARED


def test_an_upload_without_file_keeps_the_fields_and_stores_nothing(client, auth, member) -> None:
    auth.login(member)
    response = client.post(
        "/media/upload",
        data={"title": "Affiche de la fête", **SOURCE},
        headers={"Accept-Language": "fr"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Choisissez un fichier à déposer." in html
    assert "Affiche de la fête" in html and "Guide des jardins" in html
    assert _count(Media) == 0


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/api/v1/media", "media_missing_file", "Choose a file to upload."),
        ("/api/v1/import", "no_file", "Send the bundle as the request body or as the “file” field"),
    ],
)
def test_the_api_multipart_forms_name_the_missing_file(client, editor, path, code, message) -> None:
    headers = {"Authorization": f"Bearer {accounts.create_token(editor)}", "Accept-Language": "en"}
    response = client.post(
        path, data={"title": "Sans fichier"}, headers=headers, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"].startswith(message)
    assert _count(Media) == 0


def test_the_api_upload_takes_a_file_its_client_did_not_name(client, member) -> None:
    part = 'Content-Disposition: form-data; name="{}"{}\r\n\r\n'
    body = b"".join(
        [
            b"--limit\r\n" + part.format("file", '; filename=""').encode() + _picture(),
            b"\r\n--limit\r\n" + part.format("name", "").encode() + b"carte.png",
            b"\r\n--limit\r\n" + part.format("source", "").encode() + b"Atlas",
            b"\r\n--limit--\r\n",
        ]
    )
    response = client.post(
        "/api/v1/media",
        data=body,
        headers={"Authorization": f"Bearer {accounts.create_token(member)}"},
        content_type="multipart/form-data; boundary=limit",
    )
    assert response.status_code == 201, response.get_json()
    assert media.get("carte.png").source["title"] == "Atlas"


def test_a_json_body_is_not_read_as_the_upload_form(client, member) -> None:
    response = client.post(
        "/api/v1/media",
        json=["file", "name"],
        headers={"Authorization": f"Bearer {accounts.create_token(member)}"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "media_missing_file"
