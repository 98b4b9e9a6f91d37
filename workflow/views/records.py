"""Additions to the case record from the case page: findings, evidence, statements, participants."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from cases.models import Case

from .. import forms as f
from .. import services
from ..doors import actor_for
from ..errors import WorkflowError
from ..permissions import (
    evidence_visible,
)
from ..selectors import (
    case_or_404,
)


@login_required
@require_POST
def finding_save(request: HttpRequest, case_id: int, clause_id: str) -> HttpResponse:
    case = case_or_404(request.user, case_id)
    form = f.FindingForm(request.POST)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    error = None
    if form.is_valid():
        try:
            services.finding_record(
                case_id=case.pk,
                actor=actor_for(request.user, request),
                clause_id=clause_id,
                status=form.cleaned_data["status"],
                reasoning=form.cleaned_data["reasoning"],
            )
        except WorkflowError as exc:
            error = exc.message
    else:
        error = "；".join(e for errs in form.errors.values() for e in errs)
    if wants_json:
        # The page's other forms carry the case revision; hand back the new one so they stay current.
        revision = Case.objects.filter(pk=case.pk).values_list("revision", flat=True).first()
        return JsonResponse(
            {"ok": error is None, "error": error, "revision": revision}, status=200 if error is None else 400
        )
    if error:
        messages.error(request, f"{clause_id}：{error}")
    else:
        messages.success(request, f"已记录 {clause_id} 的认定。")
    return redirect(f"{reverse('case-detail', args=[case.pk])}?tab=findings#clause-{clause_id}")


@login_required
@require_POST
def evidence_upload(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request.user, case_id)
    uploads = request.FILES.getlist("file")
    if not uploads:
        messages.error(request, "请选择要上传的文件。")
    try:
        services.uploads_check(uploads, case=case, field="file")
    except WorkflowError as exc:
        messages.error(request, exc.message)
        uploads = []
    for upload in uploads:
        try:
            services.evidence_add(
                case_id=case.pk,
                actor=actor_for(request.user, request),
                upload=upload,
                description=request.POST.get("description", ""),
                clause_id=request.POST.get("clause_id", ""),
            )
        except WorkflowError as exc:
            messages.error(request, f"{upload.name}：{exc.message}")
        else:
            messages.success(request, f"已上传：{upload.name}")
    return redirect(f"{reverse('case-detail', args=[case.pk])}?tab=evidence")


@login_required
def evidence_file(request: HttpRequest, case_id: int, evidence_id: int) -> FileResponse:
    case = case_or_404(request.user, case_id)
    evidence = evidence_visible(request.user, case).filter(pk=evidence_id).first()
    if evidence is None:
        raise Http404
    return FileResponse(
        evidence.file.open("rb"),
        filename=evidence.original_name,
        as_attachment=request.GET.get("download") == "1",
    )


@login_required
@require_POST
def statement_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request.user, case_id)
    try:
        services.statement_add(
            case_id=case.pk, actor=actor_for(request.user, request), text=request.POST.get("text", "")
        )
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "陈述已提交。")
    return redirect(f"{reverse('case-detail', args=[case.pk])}?tab=facts")


@login_required
@require_POST
def participant_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_or_404(request.user, case_id)
    try:
        services.participant_add(
            case_id=case.pk,
            actor=actor_for(request.user, request),
            name=request.POST.get("name", ""),
            kind=request.POST.get("kind", ""),
            affiliation=request.POST.get("affiliation", ""),
            opinion=request.POST.get("opinion", ""),
        )
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已记录参与调查人员。")
    return redirect(f"{reverse('case-detail', args=[case.pk])}?tab=facts")
