"""Request and response bodies of the HTTP API, and the limits on what one request may ask.

Result items are the query library's own models (:mod:`kgrec.serving.results`), so the CLI, the
Python API and HTTP describe a recommendation the same way, with one exception: explanation
paths. Over HTTP a path never shows another user: the users on a co-interaction path become one
``Others`` node carrying only a count, and their relationships lose the user end, the rating and
the attention (:meth:`PublicExplanationPath.from_path`). The CLI and Neo4j Browser, run by the
database's owner, show the full paths.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from kgrec.serving.results import ExplanationPath, PathNode, PathRelationship, Recommendation, SimilarItem

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


class PublicPathNode(BaseModel):
    """A node on an explanation path as the API shows it."""

    label: str = Field(description="User (only the requesting user), Item, Category, a knowledge label, or "
                                   "Others: the other users on a co-interaction path, as one anonymous node")
    id: str | None = Field(description="the node's id; null for Others")
    name: str = Field(description="display name; for Others e.g. '14 other people'")
    count: int | None = Field(None, description="Others: how many other users interacted with both items")


class PublicPathRelationship(BaseModel):
    """A relationship on an explanation path as the API shows it (direction as stored)."""

    type: str
    start: str | None = Field(description="id of the start node; null when it is Others")
    end: str | None = Field(description="id of the end node; null when it is Others")
    attention: float | None = Field(None, description="the active model's attention; null on Others' relationships")
    rating: float | None = Field(None, description="the requesting user's own rating; null on Others' relationships")


class PublicExplanationPath(BaseModel):
    """An explanation path with every other user anonymised (see the module docstring)."""

    nodes: list[PublicPathNode]
    relationships: list[PublicPathRelationship]
    weight: float = ExplanationPath.model_fields["weight"]
    channel: Literal["collaborative", "knowledge"] = ExplanationPath.model_fields["channel"]
    contribution: float | None = ExplanationPath.model_fields["contribution"]
    share: float | None = ExplanationPath.model_fields["share"]
    support: float = ExplanationPath.model_fields["support"]
    shape: str = ExplanationPath.model_fields["shape"]
    source: Literal["model_contribution", "first_order_estimate"] = ExplanationPath.model_fields["source"]
    disliked: bool = ExplanationPath.model_fields["disliked"]
    others: int | None = ExplanationPath.model_fields["others"]
    sentence: str = ExplanationPath.model_fields["sentence"]
    phrase: str | None = ExplanationPath.model_fields["phrase"]
    phrased_by: str | None = ExplanationPath.model_fields["phrased_by"]
    phrasing: Literal["llm", "template"] | None = ExplanationPath.model_fields["phrasing"]
    phrasing_note: str | None = ExplanationPath.model_fields["phrasing_note"]

    @classmethod
    def from_path(cls, path: ExplanationPath) -> PublicExplanationPath:
        """``path`` without any user but the first node (the one it explains to)."""
        hidden = {j for j, node in enumerate(path.nodes) if j > 0 and node.label == "User"}
        nodes = [PublicPathNode(label="Others", id=None, count=path.others,
                                name="other people" if path.others is None
                                else "1 other person" if path.others == 1 else f"{path.others:,} other people")
                 if j in hidden else PublicPathNode(label=node.label, id=node.id, name=node.name)
                 for j, node in enumerate(path.nodes)]
        rels = [_public_relationship(rel, path.nodes[j], path.nodes[j + 1], j in hidden, j + 1 in hidden)
                for j, rel in enumerate(path.relationships)]
        return cls(nodes=nodes, relationships=rels, **path.model_dump(exclude={"nodes", "relationships"}))


def _public_relationship(rel: PathRelationship, left: PathNode, right: PathNode, hide_left: bool,
                         hide_right: bool) -> PublicPathRelationship:
    """``rel`` between path nodes ``left`` and ``right``, with a hidden user's end blanked."""
    if not (hide_left or hide_right):
        return PublicPathRelationship(**rel.model_dump())
    hidden, other = (left, right) if hide_left else (right, left)
    # INTERACTED always starts at the user; ids of a user and an item may coincide (MovieLens).
    user_starts = rel.type == "INTERACTED" or not (rel.end == hidden.id and rel.start == other.id)
    return PublicPathRelationship(type=rel.type, start=None if user_starts else rel.start,
                                  end=rel.end if user_starts else None)


class PublicRecommendation(BaseModel):
    item_id: str
    title: str | None = None
    score: float
    rank: int
    model: str | None = Recommendation.model_fields["model"]
    explanations: list[PublicExplanationPath] | None = Field(
        None, description="why, best first: per piece of the model's evidence, the path of the channel that "
                    "carries its weight, and a second one when it carries a quarter of it (null unless asked for)")

    @classmethod
    def from_recommendation(cls, rec: Recommendation) -> PublicRecommendation:
        explanations = (None if rec.explanations is None
                        else [PublicExplanationPath.from_path(p) for p in rec.explanations])
        return cls(**rec.model_dump(exclude={"explanations"}), explanations=explanations)


class RecommendationList(BaseModel):
    user_id: str
    strategy: Literal["model", "fallback"] = Field(
        description="model: the active model's top-K; fallback: the model knows none of the items the user "
                    "interacted with (or there is no model yet), so popular items in their categories, "
                    "then overall popularity, excluding items they have seen")
    model: str | None = Field(description="version of the model that produced the items; null for fallback")
    live: bool = Field(description="true when the list was computed from the user's interactions since the "
                                   "model was trained (the frozen model folded the user in, no retraining); "
                                   "false for the list the training wrote, and for fallback")
    items: list[PublicRecommendation]


class Explanation(BaseModel):
    user_id: str
    item_id: str
    in_top_k: bool = Field(description="whether the item is among the user's materialised recommendations")
    rank: int | None = Field(description="its rank there, null when not recommended")
    score: float | None = Field(description="the model's score, null when not recommended")
    model: str | None = Field(description="version of the model that recommended it, null when not recommended")
    paths: list[PublicExplanationPath] = Field(
        description="graph paths from the user to the item, one per piece of the model's evidence, best first; "
                    "other users appear only as an Others count; may be empty when none exists")


class SimilarItems(BaseModel):
    item_id: str
    items: list[SimilarItem]


FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class InteractionIn(BaseModel):
    user_id: NodeId = Field(description="created if it does not exist yet")
    item_id: NodeId = Field(description="must exist; unknown items reject the whole batch (404)")
    rating: FiniteFloat | None = None
    weight: FiniteFloat | None = Field(None, description="defaults to the rating, else 1.0")
    ts: int | None = Field(None, ge=0, le=MAX_TS, description=(
        "when it happened, in seconds since the epoch; when absent, the server's current time: an "
        "interaction just made counts as the user's newest in their recommendations"))


class InteractionBatch(BaseModel):
    interactions: list[InteractionIn] = Field(min_length=1, max_length=MAX_BATCH)


class InteractionsRecorded(BaseModel):
    recorded: int = Field(description="interactions written (created or updated), all committed")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    model: str = Field(description="version of the active model")
