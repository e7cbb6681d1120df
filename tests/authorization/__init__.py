"""Every endpoint, called by every role: who may, who gets 403, who gets 404, who gets 401.

The product's object-level rule: a party never reads or changes another party's
orders, tasks, invoices or earnings, and an object it may not see answers 404
(its existence is not disclosed); 403 is for an object the caller can see but
whose action its role does not allow. Calls without a live token answer 401.

The matrix is a list of rows (an endpoint, sometimes on several objects: the
caller's own, another party's, one in another state) and one column per caller:
the eleven people of the cast, a user who belongs to no party, and three
callers without a live token (none, an unknown one, a revoked one). Each cell
states the status and, for errors, the error code; successful answers are also
checked for what they show (a list never holds another party's objects).

Every cell runs against the same freshly built world (built through the API).
After each call that is not a GET the database is compared, row by row, with
the fresh world: a refused call must have written nothing, and after a call that
changed anything the database is put back exactly as it was (rows and id
sequences), so no cell sees what an earlier cell did. Reads are checked to
write nothing at the end.

The world is the `world` fixture of `conftest.py`, built area by area; the callers, the
expectations, the rows and the runner are in `matrix.py`. Each `test_*` area module
holds its rows (`READS` and `WRITES`) and runs its write endpoints, each on a fresh
world; `test_matrix.py` gathers every module's rows, checks that they cover every
endpoint and every caller, and runs all the reads on one world.
"""
