"""Tiny input files for the loader tests, written by the tests themselves.

The MovieLens files imitate the real formats (separators, encodings, header or not) with made-up
rows: MovieLens data itself may not be redistributed.
"""

from __future__ import annotations

from pathlib import Path

GENRES_100K = ("unknown Action Adventure Animation Children's Comedy Crime Documentary Drama Fantasy "
               "Film-Noir Horror Musical Mystery Romance Sci-Fi Thriller War Western").split()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def tabular_csv(folder: Path) -> dict[str, Path]:
    """One CSV per table: 3 users, 3 items, a 2-level category tree, a director and tags."""
    return {
        "users": write(folder / "users.csv", "id,name,age\nu1,Ann,30\nu2,Bob,41\nu3,,\n"),
        "items": write(folder / "items.csv", 'id,title,year\ni1,Alien,1979\ni2,"Heat, the movie",1995\ni3,Up,2009\n'),
        "categories": write(folder / "categories.csv", "id,name,parent\nfilm,Film,\nscifi,Sci-Fi,film\n"
                                                       "crime,Crime,film\n"),
        "item_categories": write(folder / "item_categories.csv", "item_id,category_id\ni1,scifi\ni2,crime\n"),
        "interactions": write(folder / "interactions.csv", "user_id,item_id,rating,ts\nu1,i1,5,100\n"
                                                           "u1,i2,3,200\nu2,i1,4,300\nu3,i3,,\n"),
        "triples": write(folder / "triples.csv", "head_label,head_id,relation,tail_label,tail_id\n"
                                                 "Item,i1,DIRECTED_BY,Person,scott\nItem,i2,DIRECTED_BY,Person,mann\n"
                                                 "Item,i1,HAS_TAG,Tag,space\n"),
        "entities": write(folder / "entities.csv", "label,id,name\nPerson,scott,Ridley Scott\n"),
    }


def ml_100k(folder: Path) -> Path:
    def flags(*on: str) -> str:
        return "|".join("1" if genre in on else "0" for genre in GENRES_100K)

    write(folder / "u.genre", "".join(f"{g}|{i}\n" for i, g in enumerate(GENRES_100K)) + "\n")
    write(folder / "u.item", f"1|Toy Story (1995)|01-Jan-1995||http://a|{flags('Animation', 'Comedy')}\n"
                             f'2|Cité "des" enfants (1995)|01-Jan-1995||http://b|{flags("unknown")}\n'
                             f"3|Heat (1995)|01-Jan-1995||http://c|{flags('Crime', 'Thriller')}\n",
          encoding="latin-1")
    write(folder / "u.user", "1|24|M|technician|85711\n2|53|F|other|94043\n")
    write(folder / "u.data", "1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t878542960\n2\t3\t2\t878542961\n")
    return folder


def ml_1m(folder: Path) -> Path:
    write(folder / "movies.dat", "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
                                 "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
                                 "2355::Bug's Life, A (1998)::Animation|Children's|Comedy\n", encoding="latin-1")
    write(folder / "users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n")
    write(folder / "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n"
                                  "2::2355::5::978298414\n")
    return folder


def ml_latest(folder: Path) -> Path:
    write(folder / "movies.csv", "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation|Comedy\n"
                                 '3,"Grumpier Old Men, The (1995)",(no genres listed)\n'
                                 "5,Father of the Bride Part II (1995),Comedy\n")
    write(folder / "ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n"
                                  "2,1,2.5,1445714835\n2,5,3.0,1445714836\n")
    write(folder / "tags.csv", "userId,movieId,tag,timestamp\n2,1,funny,1445714994\n2,1,Funny,1445714996\n"
                               "7,3,Highly quotable,1445715207\n")
    return folder
