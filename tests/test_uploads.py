"""Uploads: type by magic bytes, size limits, random names outside the web root, safe sending."""

from __future__ import annotations

import io
import zipfile

import pytest
from werkzeug.datastructures import FileStorage

from vigtrain import uploads
from vigtrain.errors import NotFound

ALLOWED = {uploads.PDF: "PDF", uploads.DOCX: "Word document (DOCX)"}
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def _docx(with_document: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        if with_document:
            archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _file(content: bytes, name: str = "statement.pdf", content_type: str = "application/pdf") -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename=name, content_type=content_type)


@pytest.fixture
def folder(app, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF_BYTES, uploads.PDF),
        (_docx(), uploads.DOCX),
        (_docx(with_document=False), None),
        (b"PK\x03\x04garbage", None),
        (b"\x89PNG\r\n\x1a\n", None),
        (b"%PDF", None),
        (b"", None),
    ],
)
def test_type_is_decided_by_content(content, expected):
    assert uploads.detect_type(content) == expected


def test_a_pdf_passes_and_is_stored_under_a_random_key(app, folder):
    key, size, content_type = uploads.save_upload(_file(PDF_BYTES, "../../etc/passwd.pdf"), ALLOWED)
    assert len(key) == 32 and int(key, 16) >= 0
    assert (size, content_type) == (len(PDF_BYTES), uploads.PDF)
    assert [path.name for path in folder.iterdir()] == [key]
    assert (folder / key).read_bytes() == PDF_BYTES
    assert oct((folder / key).stat().st_mode & 0o777) == "0o600"
    other, _, _ = uploads.save_upload(_file(PDF_BYTES), ALLOWED)
    assert other != key


def test_the_browser_claim_is_ignored(app, folder):
    with pytest.raises(uploads.UploadError, match="must be a PDF or Word document"):
        uploads.check_upload(_file(b"\x89PNG\r\n\x1a\n" + b"0" * 50, "photo.pdf", "application/pdf"), ALLOWED)
    checked = uploads.check_upload(_file(PDF_BYTES, "statement.txt", "text/plain"), ALLOWED)
    assert checked.content_type == uploads.PDF and checked.filename == "statement.pdf"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_only_the_allowed_types_pass(app):
    with pytest.raises(uploads.UploadError, match=r"must be a PDF$"):
        uploads.check_upload(_file(_docx(), "statement.docx"), {uploads.PDF: "PDF"})


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        (None, "Select a file to upload"),
        (FileStorage(stream=io.BytesIO(b""), filename=""), "Select a file to upload"),
        (FileStorage(stream=io.BytesIO(b""), filename="empty.pdf"), "The selected file is empty"),
    ],
)
def test_missing_and_empty_files(app, storage, message):
    with pytest.raises(uploads.UploadError, match=message):
        uploads.check_upload(storage, ALLOWED)


class _CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, size=-1):
        self.asked.append(size)
        return super().read(size)


def test_size_limit_reads_no_more_than_one_byte_over(app):
    app.config["UPLOAD_MAX_BYTES"] = 100
    stream = _CountingStream(PDF_BYTES + b"0" * 1000)
    with pytest.raises(uploads.UploadError, match="must be smaller than 100 bytes"):
        uploads.check_upload(FileStorage(stream=stream, filename="big.pdf"), ALLOWED)
    assert stream.asked == [101]
    exact = PDF_BYTES + b"0" * (100 - len(PDF_BYTES))
    assert uploads.check_upload(_file(exact), ALLOWED).size == 100


def test_default_limit_is_ten_megabytes(app):
    assert uploads.max_upload_bytes() == 10 * 1024 * 1024
    assert uploads.describe_size(uploads.max_upload_bytes()) == "10 MB"
    assert uploads.describe_size(1536) == "2 KB"
    assert uploads.describe_size(1_300_000) == "1.2 MB"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("statement.pdf", "statement.pdf"),
        ("C:\\Users\\me\\My statement.PDF", "My statement.PDF"),
        ("../../.hidden.pdf", "hidden.pdf"),
        ("bad\x00name\n.pdf", "badname.pdf"),
        ("", "file.pdf"),
        ("notes.docx", "notes.pdf"),
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
    ],
)
def test_client_file_names_are_only_for_display(name, expected):
    assert uploads.clean_filename(name, uploads.PDF) == expected


def test_send_upload_is_an_attachment_that_is_not_sniffed(app, folder):
    key, _, _ = uploads.save_upload(_file(PDF_BYTES), ALLOWED)
    with app.test_request_context():
        response = uploads.send_upload(key, "My statement.pdf", uploads.PDF)
        response.direct_passthrough = False
        assert response.get_data() == PDF_BYTES
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == uploads.PDF
    assert "sandbox" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("key", ["../secret_key", "0" * 31, "g" * 32, "", "0" * 32])
def test_send_upload_refuses_keys_that_are_not_stored_files(app, folder, key):
    with app.test_request_context(), pytest.raises(NotFound):
        uploads.send_upload(key, "x.pdf", uploads.PDF)
