"""HTTP routes, one module per resource; :data:`api_router` is everything under ``/v1``."""

from fastapi import APIRouter

from kgrec.api.routes import interactions, items, model, recommendations

api_router = APIRouter()
for _module in (recommendations, items, interactions, model):
    api_router.include_router(_module.router)
