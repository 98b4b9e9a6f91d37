"""Pages: the rule-set browser (clauses by kind, versions, clause-level diff), side-by-side compare, and
the provision map (each policy document article by article, beside what the system does with it)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from rules.diff import diff_versions
from rules.errors import RuleError, UnknownRuleSetError
from rules.forms import DEFAULT_RULESETS, CompareForm
from rules.presentation import for_people
from rules.provision_map import HANDLING_LABELS, provision_maps
from rules.registry import registry
from rules.selectors import clauses_by_kind, provision_map_for, provision_maps_of, provision_rows
from rules.temporal import compare


@login_required
def ruleset_list(request: HttpRequest) -> HttpResponse:
    reg = registry()
    rows = [{"family": f, "latest": f.latest, "count": len(f.latest.top_level())} for f in reg.families()]
    return render(request, "rules/list.html", {"rows": rows})


@login_required
def ruleset_detail(request: HttpRequest, ruleset_id: str) -> HttpResponse:
    reg = registry()
    try:
        family = reg.family(ruleset_id)
    except UnknownRuleSetError:
        raise Http404("未知的规则集") from None
    label = request.GET.get("version")
    version = family.version(label) if label else (family.in_force(timezone.localdate()) or family.latest)
    if version is None:
        raise Http404("未知的版本")
    diff = None
    old_label, new_label = request.GET.get("from"), request.GET.get("to")
    if old_label and new_label:
        old, new = family.version(old_label), family.version(new_label)
        if old is None or new is None:
            raise Http404("未知的版本")
        diff = diff_versions(old, new)
    context = {
        "family": family,
        "version": version,
        "groups": clauses_by_kind(version),
        "diff": diff,
        "diff_from": old_label or (family.versions[0].version if len(family.versions) > 1 else ""),
        "diff_to": new_label or family.latest.version,
        "provision_maps": provision_maps_of(family.id),
    }
    return render(request, "rules/detail.html", context)


@login_required
def ruleset_compare(request: HttpRequest) -> HttpResponse:
    results = None
    error = None
    if "conduct_date" in request.GET:
        form = CompareForm(request.GET)
        if form.is_valid():
            try:
                evaluations = compare(
                    form.cleaned_data["rulesets"],
                    form.cleaned_data["findings"],
                    form.cleaned_data["conduct_date"],
                    facts=form.facts(),
                    answers=form.answers(),
                    decision_date=form.cleaned_data.get("decision_date"),
                )
                results = [for_people(ev.to_dict()) for ev in evaluations]
            except RuleError as exc:
                error = str(exc)
    else:
        form = CompareForm(initial={"rulesets": DEFAULT_RULESETS, "conduct_date": timezone.localdate()})
    return render(request, "rules/compare.html", {"form": form, "results": results, "error": error})


@login_required
def provision_index(request: HttpRequest) -> HttpResponse:
    maps = provision_maps()
    totals = {key: sum(m.counts()[key] for m in maps) for key in maps[0].counts()} if maps else {}
    return render(
        request, "rules/provisions.html", {"maps": maps, "totals": totals, "labels": HANDLING_LABELS}
    )


@login_required
def provision_document(request: HttpRequest, document: str) -> HttpResponse:
    pmap = provision_map_for(document)
    if pmap is None:
        raise Http404("未知的文件")
    reg = registry()
    rulesets = [reg.family(r) for r in pmap.ruleset if r in reg.ids()]
    context = {"pmap": pmap, "counts": pmap.counts(), "rows": provision_rows(pmap, reg), "rulesets": rulesets}
    return render(request, "rules/provision_map.html", context)
