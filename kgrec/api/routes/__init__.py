"""HTTP routes, one module per resource, grouped by who may call them (all under ``/v1``).

The read guard is added by the app factory only when a read key is configured, so the OpenAPI
document states exactly what a deployment requires.
"""

from fastapi import APIRouter

from kgrec.api.routes import interactions, items, model, recommendations

read_router = APIRouter()
for _module in (recommendations, items, model):
    read_router.include_router(_module.router)

write_router = interactions.router
