"""The chat messages that ask a model to phrase one path: an instruction, one worked example of
the path's shape, then the path's facts.

A 135M-parameter model echoes its input or invents claims when asked zero-shot; with one
example of the same shape it mostly writes one clean sentence. Its slips (a name copied from the
example) are what :mod:`kgrec.serving.phrasing.verify` is for.
"""

from __future__ import annotations

from kgrec.serving.phrasing.facts import PathFacts

SYSTEM = ("You write one short, friendly sentence that tells a user why a film is recommended to them. "
          "Use only the facts given. Name both films. Do not add opinions, names or numbers that are not in "
          "the facts.")

#: one worked example per path shape: (facts, sentence)
_EXAMPLES = {
    "co_interaction": (
        "The user rated Heat (5 stars).\n12 other people rated both Heat and Collateral.",
        "You gave Heat 5 stars, and 12 other people rated both Heat and Collateral."),
    "co_interaction_disliked": (
        "The user rated Heat (2 stars) but did not like it.\n12 other people rated both Heat and Collateral.",
        "You rated Heat, and 12 other people rated both Heat and Collateral."),
    "shared_entity": (
        "The user rated Alien (4.5 stars).\nAlien and Dune are both in Sci-Fi.\nRecommend: Dune.",
        "Since you rated Alien 4.5 stars, try Dune: it is also in Sci-Fi."),
    "shared_entity_disliked": (
        "The user rated Alien (2 stars) but did not like it.\nAlien and Dune are both tagged space.\n"
        "Recommend: Dune.",
        "Dune is tagged space, like Alien, which you rated."),
    "category_hierarchy": (
        "The user rated Alien (4 stars).\nAlien is in Space Horror.\nSpace Horror is a kind of Horror.\n"
        "The Thing is in Horror.\nRecommend: The Thing.",
        "You rated Alien 4 stars; it is Space Horror, a kind of Horror, and The Thing is Horror too."),
}


def messages(facts: PathFacts) -> list[dict[str, str]]:
    """The chat of one request: system, the example of the path's shape, the path's facts."""
    shape = facts.shape if facts.shape in _EXAMPLES else "shared_entity"
    if facts.disliked and f"{shape}_disliked" in _EXAMPLES:
        shape = f"{shape}_disliked"
    example, answer = _EXAMPLES[shape]
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": example},
            {"role": "assistant", "content": answer},
            {"role": "user", "content": facts.lines()}]
