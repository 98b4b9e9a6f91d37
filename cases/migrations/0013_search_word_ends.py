"""(PostgreSQL) The search vector also holds the last character of each word, so that a one-character
search (a surname: 刘) is answered from the GIN index too.

Every character of a word is either followed by another in the same word — then a bigram starts with
it — or is the word's last. A search for one character asks for the lexemes that start with it
(``'刘':*``, a prefix match the GIN index serves): the bigrams it begins and, now, the word ends.
Before, a one-character search could not use the index and read every case the user may see.

The vectors of existing cases are recomputed here: one pass over the case table (minutes for a
million cases; the table is rewritten, as an ``UPDATE`` of every row does).
"""

from django.db import migrations

UP = r"""
CREATE OR REPLACE FUNCTION case_search_ends(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(string_agg(right(word, 1), ' ' ORDER BY w), '')
  FROM regexp_split_to_table(lower(coalesce(t, '')), '\s+') WITH ORDINALITY AS words(word, w)
  WHERE word <> ''
$$;

CREATE OR REPLACE FUNCTION case_search_terms(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT case_search_bigrams(t) || ' ' || case_search_ends(t)
$$;

CREATE OR REPLACE FUNCTION case_search_vector(title text, summary text, subject bigint) RETURNS tsvector
LANGUAGE sql STABLE AS $$
  SELECT to_tsvector('simple', case_search_terms(title) || ' ' || case_search_terms(summary) || ' ' ||
    coalesce((SELECT case_search_terms(p.name) || ' ' || case_search_terms(o.name)
              FROM accounts_person p JOIN accounts_organisation o ON o.id = p.unit_id
              WHERE p.id = subject), ''))
$$;

UPDATE cases_case SET search_bigrams = case_search_vector(title, summary, subject_id);
"""

DOWN = r"""
CREATE OR REPLACE FUNCTION case_search_vector(title text, summary text, subject bigint) RETURNS tsvector
LANGUAGE sql STABLE AS $$
  SELECT to_tsvector('simple', case_search_bigrams(title) || ' ' || case_search_bigrams(summary) || ' ' ||
    coalesce((SELECT case_search_bigrams(p.name) || ' ' || case_search_bigrams(o.name)
              FROM accounts_person p JOIN accounts_organisation o ON o.id = p.unit_id
              WHERE p.id = subject), ''))
$$;
UPDATE cases_case SET search_bigrams = case_search_vector(title, summary, subject_id);
DROP FUNCTION IF EXISTS case_search_terms(text);
DROP FUNCTION IF EXISTS case_search_ends(text);
"""


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UP, params=None)


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DOWN, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0012_managed_state_index_covers_order"),
    ]

    operations = [
        migrations.RunPython(up, down),
    ]
