from django.urls import path

from workbench import views

app_name = "workbench"

urlpatterns = [
    path("", views.draft_list, name="list"),
    path("<int:pk>/", views.draft_detail, name="draft"),
    path("<int:pk>/clauses/", views.clause_add, name="clause-add"),
    path("<int:pk>/clauses/<int:clause_id>/delete/", views.clause_delete, name="clause-delete"),
    path("<int:pk>/clauses/<int:clause_id>/combine/", views.clause_combine, name="clause-combine"),
    path("<int:pk>/articles/", views.article_add, name="article-add"),
    path("<int:pk>/articles/<int:article_id>/delete/", views.article_delete, name="article-delete"),
    path("<int:pk>/dispositions/", views.articles_dispose, name="dispose"),
    path("<int:pk>/version/", views.describe, name="describe"),
    path("<int:pk>/tests/", views.test_add, name="test-add"),
    path("<int:pk>/tests/<int:test_id>/delete/", views.test_delete, name="test-delete"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/publish/", views.publish, name="publish"),
    path("<int:pk>/return/", views.send_back, name="return"),
    path("<int:pk>/export/", views.export, name="export"),
    path("<int:pk>/original/", views.original, name="original"),
    path("<int:pk>/document/", views.replace_document, name="replace-document"),
]
