"""What the engine learns from: graph columns and the flat view (:mod:`.graph`), users as
interaction histories (:mod:`.histories`), the temporal split (:mod:`.split`) and mini-batch
sampling (:mod:`.sampling`). Nothing here talks to Neo4j or knows a model."""
