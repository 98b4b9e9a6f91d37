"""The case number stored on the case, and (PostgreSQL) a bigram search vector kept by triggers.

PostgreSQL here has no Chinese parser, and pg_trgm cannot use its index for a two-character name. So
each searchable text (title, summary, the subject's name and unit) is cut into character bigrams,
stored as a ``tsvector`` of the simple configuration in ``search_bigrams`` with a GIN index, and a
search asks for the bigrams of what was typed (``cases.search``). Triggers keep the vector current
when a case's texts, its subject, a person's name or a unit's name change. The column exists only on
PostgreSQL and is not part of the model; SQLite searches with a plain contains.
"""

import datetime as dt

from django.db import migrations, models
from django.db.models.functions import Cast, Concat, ExtractYear, LPad

PG_SEARCH_UP = r"""
-- Numbering the existing cases left deferred constraint checks queued; run them now, or PostgreSQL
-- refuses to change the table again in this transaction.
SET CONSTRAINTS ALL IMMEDIATE;

-- Each word's characters once, paired with the next by lead(): linear in the text's length
-- (substr(w, i, 2) over every i is quadratic on multibyte text: minutes for a long summary).
CREATE OR REPLACE FUNCTION case_search_bigrams(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(string_agg(c || nc, ' '), '')
  FROM (
    SELECT c, lead(c) OVER (PARTITION BY w ORDER BY i) AS nc
    FROM regexp_split_to_table(lower(coalesce(t, '')), '\s+') WITH ORDINALITY AS words(word, w),
         unnest(regexp_split_to_array(word, '')) WITH ORDINALITY AS chars(c, i)
  ) pairs
  WHERE nc IS NOT NULL
$$;

CREATE OR REPLACE FUNCTION case_search_vector(title text, summary text, subject bigint) RETURNS tsvector
LANGUAGE sql STABLE AS $$
  SELECT to_tsvector('simple', case_search_bigrams(title) || ' ' || case_search_bigrams(summary) || ' ' ||
    coalesce((SELECT case_search_bigrams(p.name) || ' ' || case_search_bigrams(o.name)
              FROM accounts_person p JOIN accounts_organisation o ON o.id = p.unit_id
              WHERE p.id = subject), ''))
$$;

ALTER TABLE cases_case ADD COLUMN search_bigrams tsvector;
UPDATE cases_case SET search_bigrams = case_search_vector(title, summary, subject_id);
CREATE INDEX cases_case_search_bigrams_gin ON cases_case USING gin (search_bigrams);

CREATE OR REPLACE FUNCTION cases_case_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_bigrams := case_search_vector(NEW.title, NEW.summary, NEW.subject_id);
  RETURN NEW;
END $$;
CREATE TRIGGER cases_case_search_insert BEFORE INSERT ON cases_case
  FOR EACH ROW EXECUTE FUNCTION cases_case_search_refresh();
CREATE TRIGGER cases_case_search_update BEFORE UPDATE OF title, summary, subject_id ON cases_case
  FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.summary IS DISTINCT FROM NEW.summary
                     OR OLD.subject_id IS DISTINCT FROM NEW.subject_id)
  EXECUTE FUNCTION cases_case_search_refresh();

CREATE OR REPLACE FUNCTION cases_person_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE cases_case SET search_bigrams = case_search_vector(title, summary, subject_id) WHERE subject_id = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER cases_person_search AFTER UPDATE OF name, unit_id ON accounts_person
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.unit_id IS DISTINCT FROM NEW.unit_id)
  EXECUTE FUNCTION cases_person_search_refresh();

CREATE OR REPLACE FUNCTION cases_organisation_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE cases_case c SET search_bigrams = case_search_vector(c.title, c.summary, c.subject_id)
  FROM accounts_person p WHERE p.id = c.subject_id AND p.unit_id = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER cases_organisation_search AFTER UPDATE OF name ON accounts_organisation
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
  EXECUTE FUNCTION cases_organisation_search_refresh();
"""

PG_SEARCH_DOWN = """
DROP TRIGGER IF EXISTS cases_organisation_search ON accounts_organisation;
DROP TRIGGER IF EXISTS cases_person_search ON accounts_person;
DROP TRIGGER IF EXISTS cases_case_search_update ON cases_case;
DROP TRIGGER IF EXISTS cases_case_search_insert ON cases_case;
DROP FUNCTION IF EXISTS cases_organisation_search_refresh();
DROP FUNCTION IF EXISTS cases_person_search_refresh();
DROP FUNCTION IF EXISTS cases_case_search_refresh();
ALTER TABLE cases_case DROP COLUMN IF EXISTS search_bigrams;
DROP FUNCTION IF EXISTS case_search_vector(text, text, bigint);
DROP FUNCTION IF EXISTS case_search_bigrams(text);
"""


def number_existing(apps, schema_editor):
    """Existing cases keep the number they were shown with: 容案 + creation year (UTC) + id."""
    Case = apps.get_model("cases", "Case")
    digits = Cast("id", models.CharField())
    Case.objects.filter(reference__isnull=True).update(reference=Concat(
        models.Value("容案"), Cast(ExtractYear("created_at", tzinfo=dt.UTC), models.CharField()),
        models.Value("-"),
        models.Case(models.When(id__lt=100000, then=LPad(digits, 5, models.Value("0"))), default=digits),
        output_field=models.CharField(),
    ))


def search_up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_SEARCH_UP, params=None)


def search_down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_SEARCH_DOWN, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0005_case_decision_date"),
        ("accounts", "0006_api_token_second_factor"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="reference",
            field=models.CharField(blank=True, editable=False, help_text="容案YYYY-NNNNN：创建年份与案件序号",
                                   max_length=24, null=True, unique=True, verbose_name="案件编号"),
        ),
        migrations.RunPython(number_existing, migrations.RunPython.noop),
        migrations.RunPython(search_up, search_down),
    ]
