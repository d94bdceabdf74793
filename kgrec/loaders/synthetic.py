"""A seeded synthetic knowledge graph with planted, learnable structure.

Why synthetic: tests and benchmarks need a graph of any size, generated in seconds, whose
"right answer" is known. The generator plants what a knowledge-aware recommender should find:

- **Catalogue.** Leaf genres under a few parent genres (``SUBCATEGORY_OF``). Every creator
  (``:Person``, ``DIRECTED_BY``) works mostly in one home genre; every item has one creator, one
  or two genres and three tags (``:Tag``, ``HAS_TAG``) drawn mostly from its genre's tags.
  Item popularity is long-tailed (Zipf); half the catalogue is released during the observed
  period, so late items have few interactions when a temporal split is made.
- **Users.** Each user has two favourite genres and a few favourite creators (from those
  genres). An interaction comes from a favourite creator, a favourite genre, the global
  popularity, or uniform noise (the mix is an argument). Within a source, items are drawn by
  popularity among the items already released at the interaction's time.
- **Drift.** For some users the second favourite genre moves to a sibling genre (same parent)
  in the later part of their activity: the temporal hold-out then asks for something related,
  not something identical, to the training history.
- **Ratings** 1-5: high for items from the user's tastes, spread out for noise.

Because a favourite creator's rarely watched item is only reachable through the creator (and
a new genre only through its parent), pure collaborative filtering cannot solve it alone, while
popularity is a real but weak baseline. Everything is vectorised numpy: a million interactions
take a few seconds.

Example:
    >>> graph = generate_sample(n_users=200, seed=1)
    >>> sorted(graph.triples["relation"].unique())
    ['DIRECTED_BY', 'HAS_TAG']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kgrec.graph_schema import TabularGraph

_EPOCH_START = 1_577_836_800  # 2020-01-01, the start of the observed period
_SPAN = 3 * 365 * 86_400  # three years of activity

#: parent genre -> its leaf genres; the hierarchy is what drift moves along
GENRES: dict[str, tuple[str, ...]] = {
    "Science Fiction": ("Space Opera", "Cyberpunk", "Time Travel", "Dystopia"),
    "Drama": ("Period Drama", "Legal Drama", "Family Drama", "Coming of Age"),
    "Comedy": ("Romantic Comedy", "Satire", "Slapstick"),
    "Thriller": ("Crime", "Espionage", "Psychological", "Heist"),
    "Fantasy": ("High Fantasy", "Urban Fantasy", "Fairy Tale"),
    "Documentary": ("Nature", "History", "True Crime", "Music"),
}
_TAG_WORDS = (
    "starships", "androids", "hackers", "paradox", "rebellion", "corsets", "courtroom", "siblings",
    "first love", "road trip", "wedding", "politics", "pratfalls", "detectives", "spies", "twist ending",
    "unreliable narrator", "vault", "dragons", "quest", "magic school", "fairies", "wildlife",
    "oceans", "archives", "war", "cold case", "concert", "biography", "small town", "heartwarming",
    "dark", "slow burn", "ensemble cast", "based on a book", "cult classic", "award winner",
    "black and white", "animated", "musical score", "cliffhanger", "friendship", "revenge",
    "survival", "mystery", "satirical", "epic", "minimalist",
)
_FIRST = (
    "Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Zoe", "Omar", "Ines", "Kenji", "Priya",
    "Mateo", "Sofia", "Elena", "Yusuf", "Hana", "Jonas", "Aisha", "Leo", "Nora", "Ravi",
    "Chloe", "Tomas", "Freya", "Malik", "Sara", "Ivan", "Amara", "Felix", "Lena", "Diego", "Mei",
)
_LAST = (
    "Chen", "Moreau", "Okafor", "Silva", "Kowalski", "Haddad", "Nakamura", "Larsen", "Patel",
    "Rossi", "Novak", "Garcia", "Schmidt", "Dubois", "Kim", "Jensen", "Costa", "Ivanova",
    "Mendes", "Tanaka", "Fischer", "Ali", "Byrne", "Horvat", "Lindqvist", "Mwangi", "Reyes", "Sato",
)
_ADJECTIVES = (
    "Silent", "Crimson", "Hidden", "Last", "Broken", "Golden", "Distant", "Electric", "Frozen",
    "Wild", "Hollow", "Burning", "Quiet", "Endless", "Velvet", "Iron", "Paper", "Midnight", "Lost",
    "Bright", "Secret", "Savage", "Gentle", "Hungry",
)
_NOUNS = (
    "Harbor", "Protocol", "Garden", "Signal", "Empire", "River", "Mirror", "Orchard", "Frontier",
    "Machine", "Letter", "Voyage", "Island", "Crown", "Archive", "Storm", "Circus", "Lantern",
    "Station", "Kingdom", "Witness", "Tide", "Engine", "Summer",
)


def generate_sample(
    n_users: int = 1000,
    seed: int = 0,
    *,
    interactions_per_user: float = 20.0,
    n_items: int | None = None,
    n_interactions: int | None = None,
    source_mix: tuple[float, float, float, float] = (0.35, 0.40, 0.15, 0.10),
    drift: float = 0.5,
) -> TabularGraph:
    """Generate a synthetic knowledge graph (see the module docstring for what is planted).

    Args:
        n_users: number of users (ignored when ``n_interactions`` is given).
        seed: the only source of randomness; the same arguments give the same graph.
        interactions_per_user: mean interactions per user (at least 5 each, long-tailed).
        n_items: catalogue size; default scales with the users (``max(150, n_users // 3)``).
        n_interactions: the size knob: about this many interactions in total (sets
            ``n_users = n_interactions / interactions_per_user``).
        source_mix: probabilities that an interaction comes from (favourite creator, favourite
            genre, global popularity, uniform noise).
        drift: share of users whose second favourite genre moves to a sibling genre in the
            later part of their activity.

    Returns:
        A :class:`~kgrec.graph_schema.TabularGraph` with users (``name``), items (``title``,
        ``year``), categories with ``parent``, interactions (``weight``, ``rating``, ``ts``),
        ``Person`` and ``Tag`` entities and ``DIRECTED_BY`` / ``HAS_TAG`` triples.
    """
    if n_interactions is not None:
        n_users = max(10, int(round(n_interactions / interactions_per_user)))
    n_items = n_items or max(150, n_users // 3)
    rng = np.random.default_rng(seed)
    mix = np.asarray(source_mix, dtype=float)
    mix = mix / mix.sum()

    categories, leaf_parent = _categories()
    n_leaves = len(leaf_parent)
    leaf_pop = rng.dirichlet(np.full(n_leaves, 2.0))

    # Catalogue: creators with a home genre, items with creator, genres, tags, popularity.
    n_creators = max(8, n_items // 6)
    creator_home = rng.choice(n_leaves, size=n_creators, p=leaf_pop)
    creator_pop = rng.pareto(1.5, n_creators) + 1.0
    item_creator = rng.choice(n_creators, size=n_items, p=creator_pop / creator_pop.sum())
    home = creator_home[item_creator]
    item_leaf = np.where(rng.random(n_items) < 0.85, home, rng.integers(0, n_leaves, n_items))
    second = rng.integers(0, n_leaves, n_items)
    has_second = (rng.random(n_items) < 0.2) & (second != item_leaf)
    item_pop = (rng.permutation(n_items) + 1.0) ** -0.9
    release = np.where(rng.random(n_items) < 0.5, _EPOCH_START - rng.integers(86_400, 20 * 365 * 86_400, n_items),
                       _EPOCH_START + rng.integers(0, int(0.9 * _SPAN), n_items))
    ic_item = np.concatenate([np.arange(n_items), np.flatnonzero(has_second)])
    ic_leaf = np.concatenate([item_leaf, second[has_second]])

    # Users: favourite genres, favourite creators, activity window, drift target.
    counts = np.maximum(5, np.rint(rng.lognormal(np.log(interactions_per_user) - 0.18, 0.6, n_users))).astype(np.int64)
    fav1 = rng.choice(n_leaves, size=n_users, p=leaf_pop)
    fav2 = np.where(rng.random(n_users) < 0.5, _sibling(fav1, leaf_parent, rng), rng.choice(n_leaves, n_users, p=leaf_pop))
    drift_to = np.where(rng.random(n_users) < drift, _sibling(fav2, leaf_parent, rng), fav2)
    fav_creators = _favourite_creators(fav1, fav2, creator_home, creator_pop, rng, per_user=3)
    start = rng.random(n_users) * 0.7 * _SPAN + _EPOCH_START
    length = (0.2 + 0.1 * rng.random(n_users)) * _SPAN

    # Draw 40% more candidate interactions than needed; repeats of a (user, item) pair are dropped.
    draws = np.ceil(counts * 1.4).astype(np.int64)
    user = np.repeat(np.arange(n_users), draws)
    ts = (start[user] + rng.random(len(user)) * length[user]).astype(np.int64)
    late = ts > start[user] + 0.6 * length[user]
    source = rng.choice(4, size=len(user), p=mix)
    leaf = np.where(rng.random(len(user)) < 0.6, fav1[user], np.where(late, drift_to[user], fav2[user]))
    creator = fav_creators[user, rng.integers(0, fav_creators.shape[1], len(user))]

    by_creator = _PrefixSampler(item_creator, np.arange(n_items), release, item_pop)
    by_leaf = _PrefixSampler(ic_leaf, ic_item, release[ic_item], item_pop[ic_item])
    by_pop = _PrefixSampler(np.zeros(n_items, np.int64), np.arange(n_items), release, item_pop)
    uniform = _PrefixSampler(np.zeros(n_items, np.int64), np.arange(n_items), release, np.ones(n_items))
    item = np.full(len(user), -1, dtype=np.int64)
    for code, sampler, group in ((0, by_creator, creator), (1, by_leaf, leaf), (2, by_pop, None), (3, uniform, None)):
        rows = np.flatnonzero(source == code)
        groups = np.zeros(len(rows), np.int64) if group is None else group[rows]
        item[rows] = sampler.sample(groups, ts[rows], rng)
    fallback = item < 0  # a favourite with nothing released yet: fall back to popularity
    item[fallback] = by_pop.sample(np.zeros(fallback.sum(), np.int64), ts[fallback], rng)

    keep = item >= 0
    frame = pd.DataFrame({"u": user[keep], "i": item[keep], "ts": ts[keep], "source": source[keep]})
    frame = frame.sort_values(["u", "ts"], kind="stable").drop_duplicates(["u", "i"], keep="first")
    frame = frame[frame.groupby("u").cumcount().to_numpy() < counts[frame["u"].to_numpy()]]
    rating = _ratings(frame["source"].to_numpy(), rng)

    return TabularGraph(
        users=pd.DataFrame({"id": _ids("u", n_users), "name": _names(n_users, rng)}),
        items=pd.DataFrame({"id": _ids("i", n_items), "title": _titles(n_items, rng),
                            "year": pd.to_datetime(release, unit="s").year.astype(np.int64)}),
        categories=categories,
        item_categories=pd.DataFrame({"item_id": _ids("i", n_items)[ic_item],
                                      "category_id": categories["id"].to_numpy()[ic_leaf + len(GENRES)]}),
        interactions=pd.DataFrame({
            "user_id": _ids("u", n_users)[frame["u"].to_numpy()],
            "item_id": _ids("i", n_items)[frame["i"].to_numpy()],
            "weight": np.ones(len(frame)), "rating": rating, "ts": frame["ts"].to_numpy(np.int64)}),
        entities=_entities(n_creators, rng),
        triples=_triples(n_items, item_creator, item_leaf, n_leaves, rng),
    )


class _PrefixSampler:
    """Draws, per request, one entry of a group with probability proportional to its weight,
    among the entries released at or before the request's time.

    Entries are sorted by (group, release), so "released by time t" is a prefix of each group's
    run; a global cumulative weight array then turns a weighted draw from that prefix into one
    ``searchsorted``. Returns -1 where the prefix is empty.
    """

    def __init__(self, group: np.ndarray, value: np.ndarray, release: np.ndarray, weight: np.ndarray):
        order = np.lexsort((release, group))
        self.group = group[order].astype(np.int64)
        self.value = value[order]
        self.key = self.group.astype(np.float64) * 1e10 + (release[order] - _EPOCH_START + 1e9)
        self.cum = np.cumsum(weight[order].astype(np.float64))

    def sample(self, groups: np.ndarray, times: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        start = np.searchsorted(self.group, groups)
        end = np.searchsorted(self.key, groups * 1e10 + (times - _EPOCH_START + 1e9), side="right")
        valid = end > start
        lo = np.where(start > 0, self.cum[np.maximum(start - 1, 0)], 0.0)
        hi = self.cum[np.maximum(end - 1, 0)]
        pos = np.searchsorted(self.cum, lo + rng.random(len(groups)) * (hi - lo), side="right")
        pos = np.clip(pos, start, np.maximum(end - 1, start))
        return np.where(valid, self.value[np.minimum(pos, len(self.value) - 1)], -1)


def _categories() -> tuple[pd.DataFrame, np.ndarray]:
    """The genre table (parents first, then leaves) and each leaf's parent index."""
    parents = list(GENRES)
    leaves = [(leaf, p) for p, (_, children) in enumerate(GENRES.items()) for leaf in children]
    names = parents + [leaf for leaf, _ in leaves]
    ids = [f"c{k + 1}" for k in range(len(names))]
    parent_ids = [None] * len(parents) + [ids[p] for _, p in leaves]
    frame = pd.DataFrame({"id": ids, "name": names, "parent": pd.array(parent_ids, dtype="string")})
    return frame, np.array([p for _, p in leaves])


def _sibling(leaf: np.ndarray, leaf_parent: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random other leaf under the same parent (the leaf itself if it has no sibling)."""
    parent = leaf_parent[leaf]
    first = np.searchsorted(leaf_parent, parent)
    size = np.bincount(leaf_parent)[parent]
    other = first + (leaf - first + rng.integers(1, np.maximum(size, 2), len(leaf))) % size
    return np.where(size > 1, other, leaf)


def _favourite_creators(fav1: np.ndarray, fav2: np.ndarray, creator_home: np.ndarray,
                        creator_pop: np.ndarray, rng: np.random.Generator, per_user: int) -> np.ndarray:
    """``per_user`` creators per user, drawn by popularity among creators of the user's genres
    (two from the first favourite genre, the rest from the second)."""
    sampler = _PrefixSampler(creator_home, np.arange(len(creator_home)), np.zeros(len(creator_home)), creator_pop)
    anytime = np.full(len(fav1), _EPOCH_START, dtype=np.int64)
    columns = []
    for k in range(per_user):
        genre = fav1 if k < 2 else fav2
        pick = sampler.sample(genre, anytime, rng)
        columns.append(np.where(pick >= 0, pick, rng.integers(0, len(creator_home), len(fav1))))
    return np.stack(columns, axis=1)


def _ratings(source: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """5/4/3 stars for taste-driven interactions, 1-5 for popularity and noise."""
    liked = rng.choice([5.0, 4.0, 3.0], size=len(source), p=[0.55, 0.35, 0.10])
    other = rng.choice([5.0, 4.0, 3.0, 2.0, 1.0], size=len(source), p=[0.15, 0.25, 0.3, 0.2, 0.1])
    return np.where(source <= 1, liked, other)


def _ids(prefix: str, n: int) -> np.ndarray:
    return np.char.add(prefix, np.arange(1, n + 1).astype(str)).astype(object)


def _names(n: int, rng: np.random.Generator) -> np.ndarray:
    first = np.asarray(_FIRST)[rng.integers(0, len(_FIRST), n)]
    last = np.asarray(_LAST)[rng.integers(0, len(_LAST), n)]
    return np.char.add(np.char.add(first, " "), last).astype(object)


def _titles(n: int, rng: np.random.Generator) -> np.ndarray:
    adjective = np.asarray(_ADJECTIVES)[rng.integers(0, len(_ADJECTIVES), n)]
    noun = np.asarray(_NOUNS)[rng.integers(0, len(_NOUNS), n)]
    plain = np.char.add(np.char.add(adjective, " "), noun)
    the = np.char.add("The ", plain)
    of = np.char.add(np.char.add(np.char.add("The ", noun), " of "), np.asarray(_NOUNS)[rng.integers(0, len(_NOUNS), n)])
    style = rng.integers(0, 3, n)
    return np.where(style == 0, plain, np.where(style == 1, the, of)).astype(object)


def _entities(n_creators: int, rng: np.random.Generator) -> pd.DataFrame:
    people = pd.DataFrame({"label": "Person", "id": _ids("p", n_creators), "name": _names(n_creators, rng)})
    tags = pd.DataFrame({"label": "Tag", "id": _ids("t", len(_TAG_WORDS)), "name": list(_TAG_WORDS)})
    return pd.concat([people, tags], ignore_index=True)


def _triples(n_items: int, item_creator: np.ndarray, item_leaf: np.ndarray, n_leaves: int,
             rng: np.random.Generator) -> pd.DataFrame:
    """DIRECTED_BY per item, and three distinct tags: two from its genre's five, one at random."""
    n_tags = len(_TAG_WORDS)
    genre_tags = rng.integers(0, n_tags, (n_leaves, 5))
    picks = np.stack([genre_tags[item_leaf, rng.integers(0, 5, n_items)],
                      genre_tags[item_leaf, rng.integers(0, 5, n_items)],
                      rng.integers(0, n_tags, n_items)], axis=1)
    tag_item = np.repeat(np.arange(n_items), 3)
    tag = pd.DataFrame({"i": tag_item, "t": picks.ravel()}).drop_duplicates()
    item_ids, tag_ids = _ids("i", n_items), _ids("t", n_tags)
    directed = pd.DataFrame({"head_label": "Item", "head_id": item_ids, "relation": "DIRECTED_BY",
                             "tail_label": "Person", "tail_id": _ids("p", item_creator.max() + 1)[item_creator]})
    tagged = pd.DataFrame({"head_label": "Item", "head_id": item_ids[tag["i"].to_numpy()], "relation": "HAS_TAG",
                           "tail_label": "Tag", "tail_id": tag_ids[tag["t"].to_numpy()]})
    return pd.concat([directed, tagged], ignore_index=True)
