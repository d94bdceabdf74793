"""One plain sentence per explanation path: one template per path shape, a general fallback.

Example: "Because you rated *Alien* (5★), which is also in *Sci-Fi*, like *Dune*."
"""

from __future__ import annotations

from kgrec.cypher.results import ExplanationPath, PathRelationship

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


def _what_you_did(rel: PathRelationship) -> str:
    if rel.rating is not None:
        stars = f"{rel.rating:g}"
        return f"rated *{{item}}* ({stars}★)"
    return "chose *{item}*"


def sentence(path: ExplanationPath) -> str:
    """The sentence for ``path``, chosen by its shape."""
    nodes, rels = path.nodes, path.relationships
    item, target = nodes[1].name, nodes[-1].name
    opening = "Because you " + _what_you_did(rels[0]).format(item=item)
    if path.shape == "shared_entity":
        entity = nodes[2].name
        if rels[1].type == rels[2].type:
            return f"{opening}, which is also {relation_phrase(rels[1].type)} *{entity}*, like *{target}*."
        return (f"{opening}, which is {relation_phrase(rels[1].type)} *{entity}*; "
                f"*{target}* is {relation_phrase(rels[2].type)} *{entity}* too.")
    if path.shape == "co_interaction":
        # Say what the others did, not that they liked it: a 1-star rating is an interaction too.
        verb = "rated" if rels[1].rating is not None else "chose"
        return f"{opening}, and others who {verb} *{item}* also {verb} *{target}*."
    if path.shape == "category_hierarchy":
        e, f = nodes[2], nodes[3]
        link = rels[2]
        subject, obj = (e, f) if link.start == e.id else (f, e)
        verb = "a kind of" if link.type == "SUBCATEGORY_OF" else relation_phrase(link.type)
        return (f"{opening}, which is {relation_phrase(rels[1].type)} *{e.name}*; *{subject.name}* is "
                f"{verb} *{obj.name}*, and *{target}* is {relation_phrase(rels[3].type)} *{f.name}*.")
    names = " → ".join(f"*{n.name}*" for n in nodes[1:])
    return f"{opening}, connected to *{target}* through {names}."
