"""The facts of one explanation path, as the language model receives them and as the verifier
checks a phrase against them.

Titles are given as a person writes them ("The Matrix", not MovieLens' "Matrix, The (1999)"),
and a phrase may name an item either way: both forms are facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kgrec.serving.results import ExplanationPath
from kgrec.serving.sentences import relation_phrase

_YEAR = re.compile(r"\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$")
#: what a trailing "(...)" holds: a year, an original or alternative title ("(Wo hu cang long)", "(a.k.a. X)")
_TRAILING_PARENTHESES = re.compile(r"(?:\s*\([^()]*\))+\s*$")
_TRAILING_ARTICLE = re.compile(r"^(?P<body>.+), (?P<article>The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)$")


def display_title(name: str) -> str:
    """``name`` as a person writes it: the year and alternative titles in parentheses dropped, a
    trailing article moved to the front ("Matrix, The (1999)" -> "The Matrix")."""
    body = _TRAILING_PARENTHESES.sub("", name).strip() or name
    moved = _TRAILING_ARTICLE.match(body)
    if moved:
        article = moved["article"]
        return f"{article}{'' if article.endswith(chr(39)) else ' '}{moved['body']}"
    return body


def title_forms(name: str) -> tuple[str, ...]:
    """Every way a phrase may name the item: as stored, as :func:`display_title` writes it, the
    alternative titles in its parentheses, each also without a final "?", "!" or "." ("Léon", "The Professional" for "Léon: The
    Professional (a.k.a. The Professional) (Léon) (1994)")."""
    tail = _TRAILING_PARENTHESES.search(name)
    alternatives = [] if tail is None else [
        display_title(re.sub(r"^a\.k\.a\.\s*", "", inner).strip())
        for inner in re.findall(r"\(([^()]*)\)", tail[0]) if not re.fullmatch(r"[\d\s\-–]*", inner)]
    forms = [name, display_title(name), *(a for a in alternatives if a)]
    return tuple(dict.fromkeys([*forms, *(f.rstrip("?!.") for f in forms if f.rstrip("?!."))]))  # "Rabbit?"


@dataclass(frozen=True)
class PathFacts:
    """What a phrase of the path may state, and nothing more."""

    shape: str
    evidence: str
    target: str
    rating: float | None
    disliked: bool
    others: int | None = None
    #: the knowledge-graph facts on the path, as sentences ("Alien is in Sci-Fi.")
    links: tuple[str, ...] = ()
    relation_types: frozenset[str] = frozenset()
    share: float | None = None
    #: the ways a phrase may name the evidence item and the recommended item (:func:`title_forms`)
    evidence_forms: tuple[str, ...] = ()
    target_forms: tuple[str, ...] = ()
    #: every form of every name on the path (full and display titles, entity names)
    names: tuple[str, ...] = field(default=())
    #: years in the full titles: a phrase may give them
    years: frozenset[int] = frozenset()

    @classmethod
    def of(cls, path: ExplanationPath) -> PathFacts:
        nodes, rels = path.nodes, path.relationships
        rating = rels[0].rating
        evidence, target = display_title(nodes[1].name), display_title(nodes[-1].name)
        links: list[str] = []
        if path.shape == "shared_entity":
            entity, (first, second) = nodes[2].name, (relation_phrase(rels[1].type), relation_phrase(rels[2].type))
            links = ([f"{evidence} and {target} are both {first} {entity}."] if first == second
                     else [f"{evidence} is {first} {entity}.", f"{target} is {second} {entity}."])
        elif path.shape == "category_hierarchy":
            e, f, link = nodes[2], nodes[3], rels[2]
            subject, obj = (e, f) if link.start == e.id else (f, e)
            verb = "a kind of" if link.type == "SUBCATEGORY_OF" else relation_phrase(link.type)
            links = [f"{evidence} is {relation_phrase(rels[1].type)} {e.name}.", f"{subject.name} is {verb} {obj.name}.",
                     f"{target} is {relation_phrase(rels[3].type)} {f.name}."]
        entities = [n.name for n in nodes[2:-1] if n.label != "User"]
        full = [nodes[1].name, nodes[-1].name]
        evidence_forms, target_forms = title_forms(full[0]), title_forms(full[1])
        names = tuple(dict.fromkeys([*evidence_forms, *target_forms, *entities]))
        years = frozenset(int(m[1]) for n in full if (m := _YEAR.search(n)))
        return cls(shape=path.shape, evidence=evidence, target=target, evidence_forms=evidence_forms,
                   target_forms=target_forms,
                   rating=rating, disliked=path.disliked, others=path.others if path.shape == "co_interaction" else None,
                   links=tuple(links), relation_types=frozenset(r.type for r in rels[1:] if r.type != "INTERACTED"),
                   share=path.share, names=names, years=years)

    @property
    def share_percent(self) -> int | None:
        return None if self.share is None else round(100 * self.share)

    def lines(self) -> str:
        """The facts as the model reads them, one per line."""
        verb = "rated" if self.rating is not None else "chose"
        stars = f" ({self.rating:g} stars)" if self.rating is not None else ""
        said = [f"The user {verb} {self.evidence}{stars}." if not self.disliked
                else f"The user {verb} {self.evidence}{stars} but did not like it."]
        if self.shape == "co_interaction":
            people = "1 other person" if self.others == 1 else f"{self.others or 'Several'} other people"
            said.append(f"{people} {verb} both {self.evidence} and {self.target}.")
        else:
            said += [*self.links, f"Recommend: {self.target}."]
        return "\n".join(said)

    def key(self) -> tuple:
        """What the phrase depends on: equal keys, equal prompts."""
        return (self.shape, self.evidence, self.target, self.rating, self.disliked, self.others, self.links)

    def numbers(self) -> set[float]:
        """The numbers a phrase may contain."""
        found: set[float] = set(self.years)
        for value in (self.rating, self.others, self.share_percent):
            if value is not None:
                found.add(float(value))
        for name in self.names:
            found.update(float(n) for n in re.findall(r"\d+(?:\.\d+)?", name))
        return found
