"""What the query library returns: pydantic models shared by the Python API, the CLI and HTTP."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, PrivateAttr


class PathNode(BaseModel):
    """One node on an explanation path."""

    label: str = Field(description="the node's kgrec label: User, Item, Category or a knowledge label")
    id: str
    name: str = Field(description="display name: title for items, name for categories/entities, id otherwise")


class PathRelationship(BaseModel):
    """One relationship on an explanation path, in the direction it is stored in Neo4j."""

    type: str
    start: str = Field(description="id of the start node (as stored)")
    end: str = Field(description="id of the end node (as stored)")
    attention: float | None = Field(None, description="the active model's learned attention, if it attends over this edge")
    rating: float | None = None


class ExplanationPath(BaseModel):
    """A path in the graph from the user to the item, through one piece of the model's evidence
    (the user's interaction with ``nodes[1]``)."""

    nodes: list[PathNode]
    relationships: list[PathRelationship]
    weight: float = Field(description="what this path's channel adds to the item's score. source "
                                      "model_contribution: the exact part of the evidence's contribution that "
                                      "flows through the channel (co_interaction: the collaborative part; "
                                      "shared_entity: the part through that entity); source "
                                      "first_order_estimate: attention(user->item) x (item . target) in the "
                                      "model's space, a first-order estimate of the whole contribution")
    channel: Literal["collaborative", "knowledge"] = Field(
        "collaborative", description="which part of the model's score the path stands for: the item-item "
                                     "weights learned from people's interactions, or a knowledge-graph link")
    contribution: float | None = Field(None, description="the evidence's whole contribution to the score (the "
                                                         "score drop when the interaction is removed): the sum "
                                                         "of its channels' parts")
    share: float | None = Field(None, description="weight / the item's score: the share of the score this "
                                                  "path's channel carries (model_contribution only)")
    support: float = Field(1.0, description="product of the connecting edges' attention; orders paths "
                                            "of equal weight")
    shape: str = Field(description="shared_entity, category_hierarchy (knowledge-graph paths) or "
                                   "co_interaction (the collaborative channel): which sentence template applies")
    source: Literal["model_contribution", "first_order_estimate"] = Field(
        "first_order_estimate", description="where the weight comes from (see weight)")
    disliked: bool = Field(False, description="the user rated the evidence below their own mean rating (or "
                                              "<= 2): the sentence then says what happened, not that they liked it")
    others: int | None = Field(None, description="co_interaction: how many other users interacted with both "
                                                 "the evidence and the item (one of them is on the path)")
    sentence: str = Field("", description="the template sentence: every name in it is a node of the path")
    phrase: str | None = Field(None, description="a language model's sentence for the path, accepted by the "
                                                "verifier (every name and number in it is a fact of the path)")
    phrased_by: str | None = Field(None, description="the language model that wrote phrase")
    phrasing: Literal["llm", "template"] | None = Field(
        None, description="which sentence to show when phrasing was asked for: llm (phrase) or template "
                          "(sentence); null when it was not")
    phrasing_note: str | None = Field(None, description="why the template is shown: no model, not phrased "
                                                        "within the time budget, or the verifier's reason")

    #: the language model's sentence for this path and the verifier's verdict on it ({text, by,
    #: accepted, reason}), as kept on the RECOMMENDED edge: what the phraser reads instead of asking
    #: the model again. Not part of any answer.
    _verdict: dict | None = PrivateAttr(None)

    @property
    def evidence(self) -> str:
        """Id of the user's item the path goes through."""
        return self.nodes[1].id

    @property
    def key(self) -> str:
        """Names the path among a recommendation's paths: its shape and node ids."""
        return self.shape + ":" + "/".join(node.id for node in self.nodes[1:])


class Recommendation(BaseModel):
    item_id: str
    title: str | None = None
    score: float
    rank: int
    model: str | None = Field(None, description="version of the model that produced it")
    live: bool = Field(False, description="computed from the user's interactions since the model was trained "
                                          "(folded in by the frozen model), not by the training's write-back")
    explanations: list[ExplanationPath] | None = None


class RecommendationState(BaseModel):
    """Whether a user's stored list is current, and what to fold the user in from if not."""

    user_exists: bool
    version: str | None = Field(description="the active model, null before the first training")
    checkpoint: str | None = Field(description="the active model's saved file, null if it has none")
    embedding_property: str | None = Field(description="the active model's slot property for embeddings")
    added_items: int = Field(0, description="items the active model scores from their knowledge links, added "
                                            "since its training")
    current: bool = Field(description="the stored list was computed by the active model from every "
                                      "interaction the user has now")
    history: list[dict] = Field(description="the user's interactions ({item_id, rating, ts}) when not current")
    recommendations: list[dict] = Field(default_factory=list, description="the first items of a current list, as "
                                                                         "recommendations.cypher returns them")


class SimilarItem(BaseModel):
    item_id: str
    title: str | None = None
    similarity: float
    shared: list[PathNode] = Field(default_factory=list, description="categories / entities both items link to")


class ModelInfo(BaseModel):
    version: str
    trained_at: str | None = None
    params: dict | None = None
    metrics: dict | None = None


class ActiveModel(ModelInfo):
    """The active model as the engine needs it: its provenance (:class:`ModelInfo`, all that the
    API serves: the checkpoint is a path on the machine that trained it) and where its data lives."""

    checkpoint: str | None = Field(None, description="the saved model's file, or null if published without one")
    slot: str | None = Field(None, description="the property slot holding its embeddings and attention, 'a' or 'b'")
    embedding_property: str | None = None
    attention_property: str | None = None
    item_index: str | None = Field(None, description="vector index over the items' embeddings")
    user_index: str | None = Field(None, description="vector index over the users' embeddings")
