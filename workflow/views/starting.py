"""Starting a case from a page: an inspector's start form and the written application."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import Organisation, Role, User
from accounts.selectors import (
    applying_units,
    orgs_with_role,
    people_visible_to,
    person_of,
)
from cases.models import Case

from .. import forms as f
from .. import services
from ..doors import actor_for, form_errors_from
from ..errors import WorkflowError
from ..selectors import (
    application_choices,
)


def _inspector_orgs(user: User) -> list[Organisation]:
    return orgs_with_role(user, Role.INSPECTOR)


@login_required
def case_new(request: HttpRequest) -> HttpResponse:
    orgs = _inspector_orgs(request.user)
    if not orgs:
        raise Http404
    org_qs = Organisation.objects.filter(pk__in=[o.pk for o in orgs])
    form = f.CaseCreateForm(
        request.POST or None,
        people=people_visible_to(request.user),
        orgs=org_qs,
        initial={"accountability_org": orgs[0].pk},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        case = _create(request, form, subject=d["subject"], loss_amount=d["loss_amount"],
                       disposition=d["disposition"])
        if case is not None:
            messages.success(request, f"已启动容错程序：{case.reference}")
            return redirect("case-detail", case_id=case.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "workflow/case_new.html", {"form": form}, status=status)


def _draft_data(request: HttpRequest) -> dict[str, Any]:
    return {k: (v if len(v) > 1 else v[0]) for k, v in request.POST.lists() if not k.startswith("_")}


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    """The written application. Files chosen on it are kept server-side at once (checked like evidence),
    so a validation error, a saved draft or a removed file never loses them; they become the case's
    evidence when the application is sent."""
    person = person_of(request.user)
    choices = application_choices(request.user)
    if choices is None:
        raise Http404
    user = request.user
    form_name = services.APPLICATION_FORM
    upload_errors: list[str] = []
    draft = None
    if request.method == "POST":
        upload_errors = services.pending_uploads_keep(
            user=user, form=form_name, files=request.FILES.getlist("attachments"))
        removing = request.POST.get("_remove_upload", "")
        if removing or request.POST.get("_draft"):
            services.application_draft_save(user=user, data=_draft_data(request))
            for problem in upload_errors:
                messages.error(request, problem)
            if removing:
                removed = services.pending_upload_remove(
                    user=user, form=form_name, upload_id=int(removing) if removing.isdigit() else 0)
                messages.success(request, f"已移除附件：{removed}；已填写的内容已保存为草稿。" if removed
                                 else "该附件已不存在；已填写的内容已保存为草稿。")
            else:
                messages.success(request, "草稿已保存，尚未提交申请；下次打开本页将自动恢复。")
            return redirect("apply")
    else:
        draft = services.application_draft(user)
    initial: dict[str, Any] = {"accountability_org": choices.default_org.pk if choices.default_org else None}
    if draft is not None:
        initial.update(draft.data)
    form = f.ApplicationForm(
        request.POST or None,
        orgs=choices.orgs,
        situations=choices.situations,
        people=choices.people,
        initial=initial,
    )
    if request.method == "POST":
        valid = form.is_valid()
        for problem in upload_errors:
            form.add_error("attachments", problem)
        if valid and not upload_errors:
            d = form.cleaned_data
            case = _create(request, form, subject=d.get("subject") or person,
                           claimed_situations=d["claimed_situations"],
                           pending=list(services.pending_uploads(user, form_name)))
            if case is not None:
                services.application_draft_discard(user=user)
                messages.success(
                    request,
                    f"已为{case.subject.name}提交容错申请，问责部门将受理。"
                    if case.applicant_unit_id
                    else "您的容错申请已提交，问责部门将受理。",
                )
                return redirect("case-detail", case_id=case.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "workflow/apply.html",
        {"form": form, "person": person, "units": applying_units(request.user), "draft": draft,
         "kept_files": list(services.pending_uploads(user, form_name))},
        status=status,
    )


def _create(request: HttpRequest, form: Any, **extra: Any) -> Case | None:
    """Start the case from a valid form; a refusal goes beside its field and nothing is created."""
    d = form.cleaned_data
    try:
        return services.case_create(
            actor=actor_for(request.user, request), title=d["title"], accountability_org=d["accountability_org"],
            conduct_date=d["conduct_date"], matter_category=d["matter_category"], summary=d["summary"],
            remedial_measures=d["remedial_measures"], submission_key=d["submission_key"] or None, **extra,
        )
    except WorkflowError as exc:
        form_errors_from(exc, form)
        return None
