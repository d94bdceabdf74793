"""Explanations phrased by a language model: the verifier, the OpenAI-compatible backend against
a canned local server, the budget and the cache. No database, no model (see
test_api_phrasing.py for both)."""

from __future__ import annotations

import time

import pytest

from kgrec.serving.phrasing import backends
from kgrec.serving.phrasing.backends import OpenAICompatible, PhrasingUnavailable, backend_from_settings
from kgrec.serving.phrasing.facts import PathFacts, display_title
from kgrec.serving.phrasing.phraser import Phraser
from kgrec.serving.phrasing.verify import verify
from kgrec.serving.results import ExplanationPath, PathNode, PathRelationship
from kgrec.settings import Settings
from phrasing_server import CannedChat, canned_chat_server


def _director_path(rating: float | None = 5.0) -> ExplanationPath:
    """u1 rated Fargo; Fargo and Raising Arizona are directed by Joel Coen."""
    return ExplanationPath(
        nodes=[PathNode(label="User", id="u1", name="u1"), PathNode(label="Item", id="fargo", name="Fargo (1996)"),
               PathNode(label="Person", id="coen", name="Joel Coen"),
               PathNode(label="Item", id="ra", name="Raising Arizona (1987)")],
        relationships=[PathRelationship(type="INTERACTED", start="u1", end="fargo", rating=rating),
                       PathRelationship(type="DIRECTED_BY", start="fargo", end="coen"),
                       PathRelationship(type="DIRECTED_BY", start="ra", end="coen")],
        weight=0.2, shape="shared_entity", channel="knowledge", share=0.4)


def _co_rated_path(others: int = 12, rating: float = 4.5, disliked: bool = False) -> ExplanationPath:
    """u1 rated The Matrix; ``others`` other people rated both it and Inception."""
    return ExplanationPath(
        nodes=[PathNode(label="User", id="u1", name="u1"), PathNode(label="Item", id="m", name="Matrix, The (1999)"),
               PathNode(label="User", id="u9", name="u9"), PathNode(label="Item", id="i", name="Inception (2010)")],
        relationships=[PathRelationship(type="INTERACTED", start="u1", end="m", rating=rating),
                       PathRelationship(type="INTERACTED", start="u9", end="m"),
                       PathRelationship(type="INTERACTED", start="u9", end="i")],
        weight=0.3, shape="co_interaction", others=others, share=0.6, disliked=disliked)


def test_titles_are_given_as_people_write_them():
    assert display_title("Matrix, The (1999)") == "The Matrix"
    assert display_title("Crouching Tiger, Hidden Dragon (Wo hu cang long) (2000)") == "Crouching Tiger, Hidden Dragon"
    facts = PathFacts.of(_co_rated_path())
    assert "The Matrix" in facts.lines() and "12 other people rated both The Matrix and Inception" in facts.lines()


@pytest.mark.parametrize("phrase", [
    "Since you gave Fargo 5 stars, you may enjoy Raising Arizona, another film directed by Joel Coen.",
    "You rated Fargo five stars; Raising Arizona is also directed by Joel Coen.",
    "Because you rated *Fargo (1996)* 5 stars, try *Raising Arizona (1987)*: it is also directed by Joel Coen.",
])
def test_a_faithful_phrase_of_a_director_path_is_accepted(phrase):
    assert verify(phrase, PathFacts.of(_director_path())).accepted


@pytest.mark.parametrize("phrase, reason", [
    ("Since you gave Fargo 5 stars, you may enjoy Raising Arizona, another film directed by Michael Mann.",
     "names something not on the path: 'Michael Mann'"),  # wrong director
    ("Since you gave Fargo 4 stars, you may enjoy Raising Arizona, directed by Joel Coen.",
     "a number not in the facts: 4"),  # wrong rating
    ("Since you gave Fargo 4 stars, you may enjoy Raising Arizona (4.0 stars), directed by Joel Coen.",
     "a number not in the facts: 4"),
    ("You rated Fargo 5 stars; like Blood Simple, Raising Arizona is directed by Joel Coen.",
     "names something not on the path: 'Blood Simple'"),  # invented title
    ("You rated Fargo 5 stars, and Raising Arizona, directed by Joel Coen, won 2 awards.",
     "a number not in the facts: 2"),  # invented number
    ("You rated Fargo 5 stars, and three other people who rated it also rated Raising Arizona by Joel Coen.",
     "a number not in the facts: 3"),  # number word
    ("You rated Fargo 5 stars, and Raising Arizona is a comedy in the same genre directed by Joel Coen.",
     "claims a relation the path does not have: 'genre'"),
    ("People who rated Fargo 5 stars also rated Raising Arizona, directed by Joel Coen.",
     "speaks of other people on a knowledge-graph path: 'people'"),
    ("You gave Raising Arizona 5 stars, and Fargo is directed by Joel Coen.",
     "says the user 'gave Raising Arizona 5'"),  # the rating put on the wrong film
    ("You gave Fargo 5, and Raising Arizona is directed by Joel Coen.",
     "a number after 'Fargo' that is not its rating: '5'"),
    ("Since you gave Fargo 5 stars, try a film directed by Joel Coen.",
     "does not name the recommended item 'Raising Arizona'"),
    ("Since you gave Fargo 5 stars, you may enjoy Raising Arizona, directed by Joel", "not a whole sentence"),
])
def test_the_verifier_rejects_planted_unfaithful_phrases(phrase, reason):
    verdict = verify(phrase, PathFacts.of(_director_path()))
    assert not verdict.accepted and verdict.reason.startswith(reason), verdict


def test_an_item_may_be_named_without_its_final_question_mark():
    path = _co_rated_path()
    path.nodes[1].name = "Who Framed Roger Rabbit? (1988)"
    phrase = "You gave Who Framed Roger Rabbit 4.5 stars, and 12 other people rated both Who Framed Roger Rabbit and Inception."
    assert verify(phrase, PathFacts.of(path)).accepted


def test_a_co_rating_phrase_must_state_the_count_and_both_items_once_each():
    facts = PathFacts.of(_co_rated_path(others=12))
    assert verify("You gave The Matrix 4.5 stars, and 12 other people rated both The Matrix and Inception.", facts).accepted
    assert verify("You gave The Matrix 4.5 stars, and 12 other people who rated it also rated Inception.", facts).accepted
    for phrase, reason in [
        ("You gave The Matrix 4.5 stars, and 12 other people who rated Inception also rated Inception.",
         "says the other people interacted with something else"),
        ("You gave The Matrix 4.5 stars, and 12 other people rated Inception.",
         "does not say that the other people interacted with both items"),
        ("You gave The Matrix 4.5 stars, and 12 other people who loved it also rated Inception.",
         "says how the other people rated"),
        ("You gave The Matrix 4.5 stars, and 4.5 other people rated both The Matrix and Inception.",
         "a count of people that is not the path's 12"),
    ]:
        verdict = verify(phrase, facts)
        assert not verdict.accepted and verdict.reason.startswith(reason), (phrase, verdict)


def test_a_disliked_item_is_never_said_to_be_liked():
    facts = PathFacts.of(_co_rated_path(rating=2.0, disliked=True))
    assert verify("You rated The Matrix, and 12 other people rated both The Matrix and Inception.", facts).accepted
    verdict = verify("You loved The Matrix, and 12 other people rated both The Matrix and Inception.", facts)
    assert not verdict.accepted


def _reply_by_shape(facts: str) -> str:
    """A faithful phrase for the director path, a wrong count for the co-rating path."""
    if "Joel Coen" in facts:
        return "Since you gave Fargo 5 stars, try Raising Arizona: it is also directed by Joel Coen."
    return "You gave The Matrix 4.5 stars, and 40 other people rated both The Matrix and Inception."


def test_the_openai_compatible_backend_phrases_and_the_verifier_decides():
    with canned_chat_server(CannedChat(_reply_by_shape)) as chat:
        phraser = Phraser(OpenAICompatible(chat.url, "tiny-model", api_key="secret"))
        try:
            director, co_rated = _director_path(), _co_rated_path()
            fresh = phraser.phrase([director, co_rated])
        finally:
            phraser.close()
    assert fresh == [director, co_rated]  # both verdicts are new, to be stored
    assert director.phrasing == "llm" and director.phrase.startswith("Since you gave Fargo")
    assert director.phrased_by == "openai:tiny-model@" + chat.url
    assert co_rated.phrasing == "template" and co_rated.phrase is None
    assert co_rated.phrasing_note == "the model's phrase was rejected: a number not in the facts: 40"
    body, headers = chat.requests[0]
    assert body["model"] == "tiny-model" and body["temperature"] == 0
    assert headers["Authorization"] == "Bearer secret"
    assert body["messages"][0]["role"] == "system" and "Joel Coen" in body["messages"][-1]["content"]


def test_phrases_are_cached_by_model_and_facts():
    with canned_chat_server(CannedChat(_reply_by_shape)) as chat:
        phraser = Phraser(OpenAICompatible(chat.url, "tiny-model"))
        try:
            phraser.phrase([_director_path(), _co_rated_path()])
            again = [_director_path(), _co_rated_path()]
            assert phraser.phrase(again) == again  # verdicts new to these path objects, from the cache
        finally:
            phraser.close()
    assert len(chat.requests) == 2  # rejected phrases are cached too
    assert [p.phrasing for p in again] == ["llm", "template"]


def test_a_slow_model_gets_the_template_within_the_budget_and_the_phrase_later():
    with canned_chat_server(CannedChat(_reply_by_shape, delay_s=1.5)) as chat:
        phraser = Phraser(OpenAICompatible(chat.url, "slow-model"))
        try:
            first = _director_path()
            started = time.monotonic()
            phraser.phrase([first], budget_s=0.2)
            waited = time.monotonic() - started
            assert first.phrasing == "template" and "budget of 0.2 s" in first.phrasing_note
            deadline = time.monotonic() + 30
            while phraser.outcome(first) is None and time.monotonic() < deadline:
                time.sleep(0.05)
            later = _director_path()
            phraser.phrase([later], budget_s=0.2)
        finally:
            phraser.close()
    assert waited < 1.5  # it did not wait for the model's answer
    assert later.phrasing == "llm" and len(chat.requests) == 1


def test_a_failing_model_leaves_the_template_with_the_reason():
    with canned_chat_server(CannedChat(_reply_by_shape, status=500)) as chat:
        phraser = Phraser(OpenAICompatible(chat.url, "broken"))
        try:
            path = _director_path()
            phraser.phrase([path])
        finally:
            phraser.close()
    assert path.phrasing == "template" and "answered 500" in path.phrasing_note


def test_without_a_model_kgrec_says_how_to_get_one(monkeypatch):
    monkeypatch.setattr(backends, "bundled_model_file", lambda: None)
    settings = Settings(llm_url=None)
    with pytest.raises(PhrasingUnavailable, match="KGREC_LLM_URL"):
        backend_from_settings(settings)
    phraser = Phraser.from_settings(settings)
    path = _director_path()
    phraser.phrase([path])
    phraser.close()
    assert path.phrasing == "template" and "pip install" in path.phrasing_note
    assert path.sentence == "" or "Fargo" in path.sentence


def test_a_verdict_read_from_the_edge_is_used_without_the_model_once_re_verified():
    with canned_chat_server(CannedChat(_reply_by_shape)) as chat:
        phraser = Phraser(OpenAICompatible(chat.url, "tiny-model"))
        try:
            first = [_director_path(), _co_rated_path()]
            phraser.phrase(first)
        finally:
            phraser.close()
        later = Phraser(OpenAICompatible(chat.url, "tiny-model"))  # a new process: an empty cache
        try:
            again = [_director_path(), _co_rated_path()]
            for path, before in zip(again, first):
                path._verdict = dict(before._verdict)
            tampered = _director_path()
            tampered._verdict = {**first[0]._verdict, "text": "Since you gave Fargo 5 stars, try Raising Arizona "
                                                               "by Michael Mann."}  # the verifier no longer agrees
            fresh = later.phrase([*again, tampered])
        finally:
            later.close()
    assert [p.phrasing for p in again] == ["llm", "template"] and fresh == [tampered]
    assert len(chat.requests) == 2  # only the first phraser asked; the tampered verdict's facts were cached
    assert tampered.phrasing == "llm" and "Joel Coen" in tampered.phrase
