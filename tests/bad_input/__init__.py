"""Bad requests against every write endpoint: the right status, the error code in the
JSON error shape, and nothing written anywhere.

Each refused request is checked three ways: its status and `error.code`; the row
count of every table (`row_counts`); and the full content of every table, so that
a request that *changed* a row (published the draft, claimed the free batch,
submitted Li's task, paid the invoice) is caught as surely as one that inserted
a row. After each table of cases the story is also read back through the API:
the draft is still a draft, the free batch still released, Li's task still in
her hands, two submissions still wait for review, the invoice is still open.

The annotators' side (task types, levels, results, disputes, earnings) has its own
world on top of the story (`work_world`), read back through the API the same way; and
`test_every_write_and_every_new_read_has_bad_input_here` fails for a write endpoint (or a
read of that side) without a case in this package.

The cases are tables, one per endpoint family. A table runs in one test on one
story, a subtest per case: a refused request changes nothing, so the next case
finds the same story (and a case that wrongly writes fails on its own).

The shared worlds are fixtures in `conftest.py`; the machinery of a refused request, and
what the API says of each world, is in `cases.py`; each `test_*` module holds the
tables of one area.
"""
