"""The HTTP API (FastAPI): ``kgrec serve``, or ``uvicorn --factory kgrec.api.app:create_app``.

Routes (OpenAPI at ``/docs``), one module each in :mod:`kgrec.api.routes`:

- ``GET /v1/users/{user_id}/recommendations?k=10&explain=false&paths=3`` — the active model's
  materialised top-K (``"strategy": "model"``), or a popularity fallback for a known user
  without recommendations (``"strategy": "fallback"``); 404 for an unknown user.
- ``GET /v1/users/{user_id}/recommendations/{item_id}/explanation?paths=5`` — graph paths from
  the user to any item, with ``in_top_k`` / ``rank`` saying whether it is recommended.
- ``GET /v1/items/{item_id}/similar?k=10`` — nearest items by embedding and what they share.
- ``POST /v1/interactions`` — a batch (at most 1000), committed in one transaction before the
  200; needs ``X-API-Key: $KGREC_API_KEY``. No key configured means writes answer 403.
- ``GET /v1/model``; ``GET /healthz`` (process up); ``GET /readyz`` (Neo4j answers and a model
  is active, else 503); ``GET /metrics`` (Prometheus, :mod:`kgrec.api.metrics`).

Reads are open unless ``KGREC_READ_API_KEY`` is set. Limits: ``k`` <= 100, ``paths`` <= 10,
bodies <= ``KGREC_MAX_BODY_BYTES`` (:mod:`kgrec.api.limits`).
Errors: see :mod:`kgrec.api.errors`. Time budget and outages: see :mod:`kgrec.api.neo4j_calls`.
"""
