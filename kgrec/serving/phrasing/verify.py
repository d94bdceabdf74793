"""Is a phrase faithful to its path? A lexical check that accepts a phrase only when it finds
nothing in it beyond the path's facts.

What it checks (each failure is a reason a person can read):
- every title-like span (a run of capitalised words) is part of a name on the path;
- every number (digits or number words) is a fact of the path: the user's rating, the count of
  other people, the channel's share in percent, or part of a name;
- a rating ("4 stars") is the user's own rating;
- it claims no relation the path does not have ("directed by" on a genre path, "other people"
  on a knowledge path), and no liking of an item the user rated low;
- it names both the evidence item and the recommended item;
- its length is that of one or two sentences.

What it cannot check: invented opinions in lower case ("a cultural icon"). The hand-checked
sample in ``bench/results/`` says how often accepted phrases are still unfaithful.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from kgrec.serving.phrasing.facts import PathFacts

MIN_WORDS, MAX_WORDS, MAX_CHARS = 6, 60, 360

#: capitalised words a sentence may start with, or use, without naming anything
_COMMON = frozenset("""
a an the and or but so if as since because given with from after before while when then also
you your you'll you've you're yours i we our it its it's this that these those there here
both other others another people viewers fans users someone everyone many some more most
like just try enjoy watch check see discover consider perhaps maybe why how what who which
movie movies film films title titles pick recommendation recommended recommend next up
good great yes no not too based thanks
""".split())

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
}
#: "one" is a number only before these words ("one other person"), not in "this one"
_ONE_COUNTS = re.compile(r"\bone\s+(other|person|people|star|stars|viewer|user|fan)\b", re.I)

#: words that claim a relation, by relation type; a phrase may only use those of its path
_RELATION_WORDS = {
    "DIRECTED_BY": ("directed", "director", "directs"),
    "ACTED_IN": ("starring", "starred", "actor", "actress", "cast", "featuring"),
    "CREATED_BY": ("created", "creator", "written", "author"),
    "HAS_TAG": ("tagged", "tag", "tags"),
    "IN_CATEGORY": ("genre", "genres", "category", "categories"),
    "BRAND": ("brand", "made by"),
}
_PEOPLE_WORDS = ("people", "viewers", "users", "others", "other person", "audiences", "everyone", "fans who")
_LIKING_WORDS = ("loved", "enjoyed", "liked", "adored", "favorite", "favourite", "fan of")
#: the others on a co-interaction path interacted with both items; how they rated them is not a fact
_OTHERS_LIKED = re.compile(r"\bwho\s+(?:also\s+|really\s+)?(?:loved|liked|enjoyed|adored)\b", re.I)

#: small words inside a title ("Lord of the Rings") or between two ("Heat and Collateral")
_JOINING = frozenset({"of", "the", "a", "an", "and", "in", "on", "to", "for", "with", "&", "de", "or"})
_TOKEN = re.compile(r"[A-Za-z0-9][\w'’&.:-]*")
_STARS = re.compile(r"(\d+(?:\.\d+)?|\b(?:" + "|".join(_NUMBER_WORDS) + r")(?:[- ]and[- ]a[- ]half)?)\s*"
                    r"(?:-|\s)?(?:stars?|★|/\s*5|out of (?:5|five))", re.I)


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: str | None = None


def _normal(text: str) -> str:
    """Lower case, accents and punctuation dropped, spaces collapsed: how names are compared."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _title_spans(phrase: str) -> list[str]:
    """Runs of capitalised words, within the pieces of ``phrase`` between punctuation (small
    joining words inside a run kept: "Lord of the Rings")."""
    spans = []
    for piece in re.split(r"[,;!?()\"*]|\.(?:\s|$)", phrase):
        run: list[str] = []
        pending: list[str] = []
        for word in _TOKEN.findall(piece):
            if word[:1].isupper() or word[:1].isdigit() and run:
                run += pending + [word]
                pending = []
            elif run and word.lower() in _JOINING:
                pending.append(word)
            else:
                if run:
                    spans.append(" ".join(run))
                run, pending = [], []
        if run:
            spans.append(" ".join(run))
    return spans


def _span_is_named(span: str, names: list[str]) -> bool:
    """Whether ``span``, without the common words at its ends and a trailing number (numbers are
    checked on their own), is part of one of the path's ``names`` (normalised)."""
    words = span.split()
    while words and _normal(words[0]) in _COMMON:
        words.pop(0)
    while words and (_normal(words[-1]) in _COMMON or words[-1].replace(".", "").isdigit()):
        words.pop()
    if not words:
        return True
    core = " ".join(words)
    forms = {_normal(core), _normal(re.sub(r"['’]s\b", "", core))}
    return any(form in name for form in forms for name in names)


def _segments_are_named(words: list[str], names: list[str]) -> bool:
    """Whether a run of capitalised words is names joined by small words ("Heat and Collateral"):
    each segment named, split at one joining word at a time."""
    if _span_is_named(" ".join(words), names):
        return True
    return any(_span_is_named(" ".join(words[:j]), names) and _segments_are_named(words[j + 1:], names)
               for j in range(1, len(words) - 1) if words[j].lower() in _JOINING)


def _value(token: str) -> float | None:
    """The number a rating is given as: "4.5", "four", "four and a half"."""
    half = re.search(r"and[- ]a[- ]half$", token, re.I) is not None
    word = re.sub(r"[- ]and[- ]a[- ]half$", "", token, flags=re.I).lower()
    number = float(word) if re.fullmatch(r"\d+(?:\.\d+)?", word) else _NUMBER_WORDS.get(word)
    return None if number is None else number + (0.5 if half else 0.0)


def _numbers(phrase: str) -> list[float]:
    """Every number in ``phrase``: digits (1,234 and 4.5 too), number words ("twenty-five"),
    "and a half" added to the number before it."""
    text = _ONE_COUNTS.sub(lambda m: "1 " + m[1], phrase.lower())
    found = [float(n.replace(",", "")) for n in re.findall(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?", text)]
    words = re.findall(r"[a-z]+(?:-[a-z]+)?(?: and a half)?", text)
    for word in words:
        half = word.endswith(" and a half")
        parts = word.removesuffix(" and a half").split("-")
        if all(p in _NUMBER_WORDS and p != "one" for p in parts):
            found.append(sum(_NUMBER_WORDS[p] for p in parts) + (0.5 if half else 0.0))
    return found


def _contains_word(text: str, words: tuple[str, ...]) -> str | None:
    for word in words:
        if re.search(rf"\b{re.escape(word)}\b", text):
            return word
    return None


def verify(phrase: str, facts: PathFacts) -> Verdict:
    """Accept ``phrase`` as a wording of ``facts``, or say the first thing in it that is not a fact."""
    text = " ".join(phrase.split())
    words = len(text.split())
    if not MIN_WORDS <= words <= MAX_WORDS or len(text) > MAX_CHARS:
        return Verdict(False, f"length: {words} words")
    if not text.rstrip("*\"'”’)").endswith((".", "!", "?")):
        return Verdict(False, "not a whole sentence")
    names = [_normal(n) for n in facts.names]
    for span in _title_spans(text):
        if not _segments_are_named(span.split(), names):
            return Verdict(False, f"names something not on the path: {span!r}")
    allowed = facts.numbers() | {n for name in facts.names for n in _numbers(name)}  # "Ocean's Eleven"
    for number in _numbers(text):
        if number not in allowed:
            return Verdict(False, f"a number not in the facts: {number:g}")
    for match in _STARS.finditer(text):
        stars = _value(match[1])
        if facts.rating is None or stars is None or abs(stars - facts.rating) > 1e-9:
            return Verdict(False, f"a rating the user did not give: {match[0]!r}")
    lower = text.lower()
    for relation, claims in _RELATION_WORDS.items():
        if relation not in facts.relation_types and (word := _contains_word(lower, claims)):
            return Verdict(False, f"claims a relation the path does not have: {word!r}")
    if facts.shape != "co_interaction" and (word := _contains_word(lower, _PEOPLE_WORDS)):
        return Verdict(False, f"speaks of other people on a knowledge-graph path: {word!r}")
    if facts.shape == "co_interaction" and (said := _OTHERS_LIKED.search(text)):
        return Verdict(False, f"says how the other people rated: {said[0]!r}")
    if (facts.disliked or facts.rating is None or facts.rating < 4) and (word := _contains_word(lower, _LIKING_WORDS)):
        return Verdict(False, f"says the user liked {facts.evidence}: {word!r}")
    normal = _normal(text)
    for role, title, forms in (("evidence item", facts.evidence, facts.evidence_forms),
                               ("recommended item", facts.target, facts.target_forms)):
        if not any(_normal(form) in normal for form in forms):
            return Verdict(False, f"does not name the {role} {title!r}")
    return _who_did_what(text, facts)


_DID = r"(?:gave|rated|chose|watched|saw|picked|liked|loved|enjoyed)"
_YOU_DID = re.compile(rf"\byou(?:'ve| have)?\s+{_DID}\s+(?!⟨E⟩|it\b)(\S+(?:\s+\S+)?)", re.I)
_OTHERS_DID = re.compile(rf"\bwho\s+(?:also\s+)?{_DID}\s+(⟨[ET]⟩|\S+)\s+(?:also\s+|too\s+|as well\s+)?{_DID}\s+(⟨[ET]⟩|\S+)",
                         re.I)
_OTHERS_DID_BOTH = re.compile(rf"\b{_DID}\s+both\s+(⟨[ET]⟩)\s+and\s+(⟨[ET]⟩)", re.I)
#: "You gave Under Siege 2 16, and ...": a number right after the evidence is its rating, in stars
_NUMBER_AFTER_EVIDENCE = re.compile(r"⟨E⟩\s*\(?(\d+(?:\.\d+)?)(?!\.?\d)(?!\s*(?:-|\s)?(?:stars?|★|/\s*5|out of))", re.I)
_COUNT = re.compile(r"(\S+)\s+(?:other\s+)?(?:people|persons?|viewers|users|others)\b", re.I)


def _marked(text: str, facts: PathFacts) -> str:
    """``text`` with each mention of the evidence item as ⟨E⟩ and of the recommended item as ⟨T⟩
    (longest name first: "The Dark Knight Rises" is not "The Dark Knight")."""
    forms = [(form, "⟨E⟩") for form in facts.evidence_forms] + [(form, "⟨T⟩") for form in facts.target_forms]
    for form, mark in sorted(forms, key=lambda pair: -len(pair[0])):
        text = re.sub(r"\*?" + re.escape(form) + r"\*?", mark, text, flags=re.I)
    return text


def _unmarked(text: str, facts: PathFacts) -> str:
    return text.replace("⟨E⟩", facts.evidence).replace("⟨T⟩", facts.target)


def _who_did_what(text: str, facts: PathFacts) -> Verdict:
    """Who did what to which item: the user rated the evidence (not the recommended item, not
    "60 other people"); the others interacted with both items (not one item twice); their count
    is the path's."""
    marked = _marked(text, facts)
    if len(re.findall(r"[.!?]+(?:\s|$)", marked)) > 2:  # counted without the names ("Kill Bill: Vol. 1")
        return Verdict(False, "more than two sentences")
    if (you := _YOU_DID.search(marked)) is not None:
        return Verdict(False, f"says the user {_unmarked(you[0].split(None, 1)[1], facts)!r}: the user's fact "
                              f"is {facts.evidence!r}")
    if (number := _NUMBER_AFTER_EVIDENCE.search(marked)) is not None:
        return Verdict(False, f"a number after {facts.evidence!r} that is not its rating: {number[1]!r}")
    said_both = False
    for both in _OTHERS_DID.finditer(marked):
        items = {both[1].rstrip(".,;!?").lower(), both[2].rstrip(".,;!?").lower()}
        if items != {"⟨e⟩", "⟨t⟩"} and not (len(items) == 2 and items <= {"⟨e⟩", "⟨t⟩", "it", "them"}):
            return Verdict(False, f"says the other people interacted with something else: {both[0]!r}")
        said_both = True
    for both in _OTHERS_DID_BOTH.finditer(marked):
        if {both[1], both[2]} != {"⟨E⟩", "⟨T⟩"}:
            return Verdict(False, f"says the other people interacted with something else: {both[0]!r}")
        said_both = True
    if facts.shape == "co_interaction" and not said_both:
        return Verdict(False, "does not say that the other people interacted with both items")
    if facts.others is not None:
        for count in _COUNT.finditer(marked):
            said = _numbers(count[1])
            if said and said[0] != facts.others:
                return Verdict(False, f"a count of people that is not the path's {facts.others}: {count[0]!r}")
    return Verdict(True)
