"""The engine's side of the database: pulling the graph (:mod:`.pull`, :mod:`.node_ids`), what a
fitted model hands over (:mod:`.output`) and writing it back atomically under one publish lock
(:mod:`.writeback`, :mod:`.publish_lock`), saved models and the active one (:mod:`.persist`),
and the CSV export of recommendations (:mod:`.export`)."""
