"""One plain sentence per explanation path: one template per path shape, a general fallback.

Example: "Because you rated *Alien* (5★), which is also in *Sci-Fi*, like *Dune*."

Every name in a sentence is the name of a node on its path. A disliked interaction (see
:attr:`~kgrec.serving.results.ExplanationPath.disliked`) is never given as the reason: such a
sentence states what happened ("You rated *X*; 3 other people who rated *X* also rated *Y*.")
without "Because" and without the stars. Other users appear only as a count.
"""

from __future__ import annotations

from kgrec.serving.results import ExplanationPath, PathRelationship

#: How an item relates to a category or entity, as words after "which is also ...".
_RELATION_PHRASES = {
    "IN_CATEGORY": "in",
    "DIRECTED_BY": "directed by",
    "CREATED_BY": "by",
    "HAS_TAG": "tagged",
    "ACTED_IN": "featuring",
    "BRAND": "from",
}


def relation_phrase(rel_type: str) -> str:
    """Words for a knowledge relation; unknown relations read as their name ("PUBLISHED_BY" -> "published by")."""
    return _RELATION_PHRASES.get(rel_type, rel_type.lower().replace("_", " "))


def _verb(rel: PathRelationship) -> str:
    return "rated" if rel.rating is not None else "chose"


def _opening(path: ExplanationPath) -> str:
    first, item = path.relationships[0], path.nodes[1].name
    if path.disliked:
        return f"You {_verb(first)} *{item}*"
    if first.rating is not None:
        return f"Because you rated *{item}* ({first.rating:g}★)"
    return f"Because you chose *{item}*"


def _people(others: int | None) -> str:
    if others is None:
        return "others"
    return "1 other person" if others == 1 else f"{others:,} other people"


def sentence(path: ExplanationPath) -> str:
    """The sentence for ``path``, chosen by its shape."""
    nodes, rels = path.nodes, path.relationships
    item, target = nodes[1].name, nodes[-1].name
    opening = _opening(path)
    if path.shape == "shared_entity":
        entity = nodes[2].name
        if rels[1].type == rels[2].type:
            return f"{opening}, which is also {relation_phrase(rels[1].type)} *{entity}*, like *{target}*."
        return (f"{opening}, which is {relation_phrase(rels[1].type)} *{entity}*; "
                f"*{target}* is {relation_phrase(rels[2].type)} *{entity}* too.")
    if path.shape == "co_interaction":
        # Say what the others did, not that they liked it: a 1-star rating is an interaction too.
        verb = _verb(rels[1])
        said = f"{_people(path.others)} who {verb} *{item}* also {verb} *{target}*."
        return f"{opening}; {said}" if path.disliked else f"{opening}, and {said}"
    if path.shape == "category_hierarchy":
        e, f = nodes[2], nodes[3]
        link = rels[2]
        subject, obj = (e, f) if link.start == e.id else (f, e)
        verb = "a kind of" if link.type == "SUBCATEGORY_OF" else relation_phrase(link.type)
        return (f"{opening}, which is {relation_phrase(rels[1].type)} *{e.name}*; *{subject.name}* is "
                f"{verb} *{obj.name}*, and *{target}* is {relation_phrase(rels[3].type)} *{f.name}*.")
    names = " → ".join(f"*{n.name}*" for n in nodes[1:] if n.label != "User")
    return f"{opening}, connected to *{target}* through {names}."
