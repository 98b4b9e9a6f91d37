"""Template tags that show a case's documents on the case page."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def case_documents(context: dict, case: object) -> str:
    return format_html('<p class="muted">{}</p>', "尚无文书。")
