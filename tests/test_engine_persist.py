"""Which checkpoint files a publish deletes (no database: the two readings are given)."""

from kgrec.engine.neo4j.persist import prune_checkpoints


def test_prune_deletes_only_files_of_removed_models_inside_the_folder(tmp_path):
    models, elsewhere = tmp_path / "models", tmp_path / "elsewhere"
    models.mkdir()
    elsewhere.mkdir()
    retired, dead_run, active, shared, outside = (models / "retired.pt", models / "dead.pt", models / "new.pt",
                                                  models / "shared.pt", elsewhere / "gone.pt")
    for file in (retired, dead_run, active, shared, outside):
        file.write_bytes(b"weights")
    unrelated = models / "other-database.pt"
    unrelated.write_bytes(b"weights")
    before = {"v-retired": str(retired), "v-dead": str(dead_run), "v-new": str(active), "v-old-same-file": str(shared),
              "v-outside": str(outside), "v-none": None}
    after = {"v-new": str(active), "v-kept": str(shared)}

    removed = prune_checkpoints(before, after, models)

    assert sorted(removed) == sorted([retired.resolve(), dead_run.resolve()])
    assert not retired.exists() and not dead_run.exists()
    assert active.exists() and shared.exists() and outside.exists() and unrelated.exists()


def test_prune_tolerates_a_file_already_gone(tmp_path):
    assert prune_checkpoints({"v1": str(tmp_path / "missing.pt")}, {}, tmp_path) == []
