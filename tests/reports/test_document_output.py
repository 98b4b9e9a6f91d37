"""A document's API output (``DocumentOutput``) is built directly for speed: it must equal DRF's generic
output, key for key, for documents in every state, for the office and for a party."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from reports.models import Document, DocumentStatus
from reports.serializers import DocumentOutput
from reports.synthetic import cases_generate

pytestmark = pytest.mark.django_db


def test_document_rows_equal_the_generic_output():
    cases_generate(count=40, seed=9, end=dt.date(2026, 6, 30), batch=100)
    docs = list(Document.objects.order_by("id")[:6])
    assert len(docs) >= 4
    # Every status, a failure with its error text, a superseded version, and a document never generated.
    Document.objects.filter(pk=docs[0].pk).update(status=DocumentStatus.FAILED, error="字体缺失", generated_at=None)
    Document.objects.filter(pk=docs[1].pk).update(status=DocumentStatus.PENDING, generated_at=None, sha256="", size=0)
    Document.objects.filter(pk=docs[2].pk).update(superseded=True, superseded_by=docs[3],
                                                  generated_at=timezone.now())
    Document.objects.filter(pk__in=[docs[2].pk, docs[3].pk]).update(
        status=DocumentStatus.READY, sha256="0" * 64, size=2048, generated_at=timezone.now())
    docs = list(Document.objects.filter(pk__in=[d.pk for d in docs]).order_by("id"))
    assert {d.status for d in docs} >= {DocumentStatus.FAILED, DocumentStatus.PENDING, DocumentStatus.READY}
    for internal in (True, False):
        serializer = DocumentOutput(context={"internal": internal})
        for doc in docs:
            fast = serializer.to_representation(doc)
            generic = serializers.Serializer.to_representation(serializer, doc)
            assert list(fast) == list(generic)
            assert json.loads(JSONRenderer().render(fast)) == json.loads(JSONRenderer().render(generic)), doc.pk
    assert DocumentOutput(docs[0], context={"internal": False}).data["error"] == "生成失败，问责部门已知悉。"
