from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workbench"
    verbose_name = "规则集工作台"

    def ready(self) -> None:
        from rules.registry import install_published_source
        from workbench.selectors import DatabaseSource

        install_published_source(DatabaseSource())
