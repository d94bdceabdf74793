"""Request and response bodies of the HTTP API, and the limits on what one request may ask.

Result items are the query library's own models (:mod:`kgrec.cypher.results`), so the CLI, the
Python API and HTTP describe a recommendation the same way; this module only wraps them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from kgrec.cypher.results import ExplanationPath, Recommendation, SimilarItem

#: Upper bounds on one request's work: part of the API contract (they appear in the OpenAPI
#: schema), so a client can never ask for a huge expansion of paths.
MAX_K = 100
MAX_PATHS = 10
MAX_BATCH = 1000
MAX_ID_LENGTH = 256
#: 9999-12-31T23:59:59Z in seconds: any real timestamp fits, and unlike 2**63 - 1 it survives
#: JSON number round-trips exactly, so clients and the schema agree on the bound.
MAX_TS = 253_402_300_799


def _utf8_encodable(value: str) -> str:
    """Reject lone surrogates (legal in JSON escapes), which Neo4j's protocol cannot carry."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


NodeId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH),
                   AfterValidator(_utf8_encodable)]


class RecommendationList(BaseModel):
    user_id: str
    strategy: Literal["model", "fallback"] = Field(
        description="model: the active model's materialised top-K; fallback: the user has none yet "
                    "(new, or added after the last training), so popular items in their categories, "
                    "then overall popularity, excluding items they have seen")
    model: str | None = Field(description="version of the model that produced the items; null for fallback")
    items: list[Recommendation]


class Explanation(BaseModel):
    user_id: str
    item_id: str
    in_top_k: bool = Field(description="whether the item is among the user's materialised recommendations")
    rank: int | None = Field(description="its rank there, null when not recommended")
    score: float | None = Field(description="the model's score, null when not recommended")
    model: str | None = Field(description="version of the model that recommended it, null when not recommended")
    paths: list[ExplanationPath] = Field(
        description="graph paths from the user to the item, best first; may be empty when none exists")


class SimilarItems(BaseModel):
    item_id: str
    items: list[SimilarItem]


FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class InteractionIn(BaseModel):
    user_id: NodeId = Field(description="created if it does not exist yet")
    item_id: NodeId = Field(description="must exist; unknown items reject the whole batch (404)")
    rating: FiniteFloat | None = None
    weight: FiniteFloat | None = Field(None, description="defaults to the rating, else 1.0")
    ts: int | None = Field(None, ge=0, le=MAX_TS, description="seconds since the epoch")


class InteractionBatch(BaseModel):
    interactions: list[InteractionIn] = Field(min_length=1, max_length=MAX_BATCH)


class InteractionsRecorded(BaseModel):
    recorded: int = Field(description="interactions written (created or updated), all committed")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    model: str = Field(description="version of the active model")
