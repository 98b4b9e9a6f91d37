"""Uploads are checked by content (magic bytes; DOCX, XLSX and OFD by the parts inside the ZIP) against the
allow-list, the extension must agree with the content, and quotas hold per file, per request and per case;
a refusal names the field in Chinese and writes nothing (no row, no file)."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from cases.models import Evidence
from tests.factories import actor, case_in_state, handler_of
from workflow import services
from workflow.errors import InvalidInput
from workflow.services.uploads import case_stored_bytes, content_kind, uploads_check

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def zipped(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


DOCX = zipped("[Content_Types].xml", "_rels/.rels", "word/document.xml")
XLSX = zipped("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml")
OFD = zipped("OFD.xml", "Doc_0/Document.xml")


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def files_in(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize(("name", "content", "kind"), [
    ("决定书.pdf", PDF, "pdf"), ("照片.JPG", JPEG, "jpeg"), ("照片.jpeg", JPEG, "jpeg"), ("截图.png", PNG, "png"),
    ("说明.docx", DOCX, "docx"), ("清单.xlsx", XLSX, "xlsx"), ("公文.ofd", OFD, "ofd"),
])
def test_allowed_types_are_recognised_by_content_and_accepted_through_the_api(media, name, content, kind):
    case = case_in_state("investigating")
    client = APIClient()
    client.force_authenticate(handler_of(case))

    response = client.post(f"/api/cases/{case.pk}/evidence/", {"file": upload(name, content)}, format="multipart")

    assert content_kind(upload(name, content)) == kind
    assert response.status_code == 201, response.json()
    assert case.evidence.get().original_name.lower() == name.lower()


@pytest.mark.parametrize(("name", "content", "message"), [
    ("判决书.pdf", EXE, "文件内容不是 PDF"),  # the finding: an executable named .pdf
    ("照片.png", JPEG, "扩展名 .png 与文件内容（JPEG 图片）不符"),
    ("说明.docx", XLSX, "扩展名 .docx 与文件内容（Excel 表格（.xlsx））不符"),
    ("说明.docx", zipped("a.txt"), "文件内容不是 Word 文档"),  # any ZIP is not a DOCX
    ("清单.xlsx", b"PK\x03\x04 not really a zip", "文件内容不是 Excel"),
    ("脚本.exe", EXE, "不支持的文件类型 .exe"),
    ("旧文档.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 32, "不支持的文件类型 .doc"),
])
def test_content_that_does_not_match_is_refused_and_nothing_is_written(media, name, content, message):
    case = case_in_state("investigating")
    client = APIClient()
    client.force_authenticate(handler_of(case))

    response = client.post(f"/api/cases/{case.pk}/evidence/", {"file": upload(name, content)}, format="multipart")

    body = response.json()
    assert response.status_code == 400 and body["field"] == "file"
    assert message in body["detail"] and name in body["detail"]
    assert not Evidence.objects.exists() and files_in(media) == []


def test_the_evidence_page_refuses_an_executable_named_pdf(media):
    case = case_in_state("investigating")
    client = Client()
    client.force_login(handler_of(case))

    response = client.post(f"/cases/{case.pk}/evidence/", {"file": [upload("判决书.pdf", EXE)]}, follow=True)

    assert "判决书.pdf" in response.content.decode() and "文件内容不是 PDF" in response.content.decode()
    assert not Evidence.objects.exists() and files_in(media) == []


def test_the_case_quota_counts_what_the_case_holds(media, settings):
    case = case_in_state("investigating")
    settings.UPLOAD_MAX_CASE_BYTES = len(PDF) * 2 + 10
    settings.UPLOAD_MAX_REQUEST_BYTES = settings.UPLOAD_MAX_CASE_BYTES
    client = APIClient()
    client.force_authenticate(handler_of(case))
    for i in range(2):
        assert client.post(f"/api/cases/{case.pk}/evidence/", {"file": upload(f"{i}.pdf", PDF)},
                           format="multipart").status_code == 201

    refused = client.post(f"/api/cases/{case.pk}/evidence/", {"file": upload("3.pdf", PDF)}, format="multipart")

    assert refused.status_code == 400 and refused.json()["field"] == "file"
    assert "每个案件的材料总量不能超过" in refused.json()["detail"]
    assert case.evidence.count() == 2 and len(files_in(media)) == 2


def test_the_file_size_limit_is_a_setting(media, settings):
    case = case_in_state("investigating")
    settings.UPLOAD_MAX_FILE_BYTES = 1024
    with pytest.raises(InvalidInput) as refused:
        services.evidence_add(case_id=case.pk, actor=actor(handler_of(case)), upload=upload("大.pdf", PDF + b" " * 2000))
    assert refused.value.field == "file" and "单个文件不能超过 1 KB" in refused.value.message
    assert not Evidence.objects.exists()


def test_uploads_check_counts_files_and_bytes_per_request_before_anything_is_written(media, settings):
    case = case_in_state("investigating")
    held = case.evidence.count()
    settings.UPLOAD_MAX_FILES_PER_REQUEST = 3
    with pytest.raises(InvalidInput) as too_many:
        uploads_check([upload(f"{i}.pdf", PDF) for i in range(4)], case=case)
    assert too_many.value.field == "attachments" and "一次最多上传 3 个文件（本次 4 个）" in too_many.value.message

    settings.UPLOAD_MAX_REQUEST_BYTES = len(PDF) * 2
    with pytest.raises(InvalidInput) as too_big:
        uploads_check([upload(f"{i}.pdf", PDF) for i in range(3)])
    assert "一次上传的文件总量不能超过" in too_big.value.message

    settings.UPLOAD_MAX_REQUEST_BYTES = 10 * 1024 * 1024
    settings.UPLOAD_MAX_CASE_BYTES = case_stored_bytes(case) + len(PDF)
    services.evidence_add(case_id=case.pk, actor=actor(handler_of(case)), upload=upload("a.pdf", PDF))
    with pytest.raises(InvalidInput) as case_full:
        uploads_check([upload("b.pdf", PDF)], case=case, field="file")
    assert case_full.value.field == "file" and "每个案件的材料总量" in case_full.value.message
    # A bad file among good ones names itself; the checks themselves write nothing.
    with pytest.raises(InvalidInput) as bad:
        uploads_check([upload("ok.pdf", PDF), upload("判决书.pdf", EXE)])
    assert "判决书.pdf" in bad.value.message
    assert case.evidence.count() == held + 1 and len(files_in(media)) == 1
    settings.UPLOAD_MAX_CASE_BYTES = 10 * 1024 * 1024
    assert uploads_check([upload("x.png", PNG), upload("y.ofd", OFD)]) == [("x.png", ".png"), ("y.ofd", ".ofd")]


def test_a_request_body_over_the_quota_is_refused_before_it_is_read(settings):
    settings.REQUEST_MAX_BYTES = 1000
    case_url = "/api/cases/1/evidence/"

    api = Client().post(case_url, {"file": upload("a.pdf", PDF + b" " * 2000)})
    page = Client().post("/apply/", {"file": upload("a.pdf", PDF + b" " * 2000)})

    assert api.status_code == 413 and api.json()["code"] == "too_large"
    assert page.status_code == 413 and "请分批上传" in page.content.decode()


def test_django_refuses_far_more_files_than_the_quota(media, settings):
    case = case_in_state("investigating")
    client = Client()
    client.force_login(handler_of(case))
    many = {"file": [upload(f"{i}.pdf", PDF) for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]}
    response = client.post(f"/cases/{case.pk}/evidence/", many)
    assert response.status_code == 400
    assert not Evidence.objects.filter(case=case, original_name__endswith=".pdf", description="").exists()


# The per-request quota needs the callers to hand over their whole list (the lead's change in
# workflow/services/start.py, closing.py and views/records.py): remove these markers with it.


def test_the_application_page_refuses_more_files_than_the_request_quota(world, media, settings):
    import re

    from cases.models import Case

    settings.UPLOAD_MAX_FILES_PER_REQUEST = 2
    client = Client()
    client.force_login(world.users["cadre"])
    key = re.search(r'name="submission_key" value="(\w+)"', client.get("/apply/").content.decode()).group(1)
    response = client.post("/apply/", {
        "submission_key": key, "title": "三个附件", "accountability_org": world.orgs["zjk_dc"].pk,
        "conduct_date": "2025-01-01", "matter_category": "other", "summary": "y",
        "attachments": [upload(f"{i}.pdf", PDF) for i in range(3)]})
    assert response.status_code == 400 and "一次最多上传 2 个文件（本次 3 个）" in response.content.decode()
    assert not Case.objects.exists() and files_in(media) == []


def test_the_evidence_page_refuses_more_files_than_the_request_quota(media, settings):
    case = case_in_state("investigating")
    held = case.evidence.count()
    settings.UPLOAD_MAX_FILES_PER_REQUEST = 2
    client = Client()
    client.force_login(handler_of(case))
    response = client.post(f"/cases/{case.pk}/evidence/", {"file": [upload(f"{i}.pdf", PDF) for i in range(3)]},
                           follow=True)
    assert "一次最多上传 2 个文件（本次 3 个）" in response.content.decode()
    assert case.evidence.count() == held and files_in(media) == []
