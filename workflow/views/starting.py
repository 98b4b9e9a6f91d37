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


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    person = person_of(request.user)
    choices = application_choices(request.user)
    if choices is None:
        raise Http404
    form = f.ApplicationForm(
        request.POST or None,
        request.FILES or None,
        orgs=choices.orgs,
        situations=choices.situations,
        people=choices.people,
        initial={"accountability_org": choices.default_org.pk if choices.default_org else None},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        case = _create(request, form, subject=d.get("subject") or person,
                       claimed_situations=d["claimed_situations"], attachments=request.FILES.getlist("attachments"))
        if case is not None:
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
        {"form": form, "person": person, "units": applying_units(request.user)},
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
