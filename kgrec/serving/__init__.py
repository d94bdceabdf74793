"""Answering for the ``kgrec`` command and the API: the query runner with typed results, the
explanation sentences, and ``kgrec explain``. The query text it runs is in :mod:`kgrec.cypher`."""
