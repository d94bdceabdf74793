// A small movie graph with hand-set model output (attention, embeddings, RECOMMENDED, :Model)
// whose explanation paths are known; used by the query-library, Browser and API tests.
CREATE (u1:User {id: 'u1'}), (u2:User {id: 'u2'}), (u3:User {id: 'u3'})
CREATE (alien:Item {id: 'alien', title: 'Alien', embedding: [1.0, 0.1, 0.0, 0.0]}),
       (br:Item {id: 'br', title: 'Blade Runner', embedding: [0.9, 0.3, 0.0, 0.0]}),
       (dune:Item {id: 'dune', title: 'Dune', embedding: [0.8, 0.0, 0.2, 0.0]}),
       (nh:Item {id: 'nh', title: 'Notting Hill', embedding: [0.0, 0.0, 0.1, 1.0]})
CREATE (scifi:Category {id: 'scifi', name: 'Sci-Fi'}),
       (so:Category {id: 'so', name: 'Space Opera'}),
       (rom:Category {id: 'rom', name: 'Romance'}),
       (scott:Person {id: 'scott', name: 'Ridley Scott'})
CREATE (so)-[:SUBCATEGORY_OF {attention: 0.9}]->(scifi)
CREATE (alien)-[:IN_CATEGORY {attention: 0.5}]->(scifi), (br)-[:IN_CATEGORY {attention: 0.5}]->(scifi),
       (dune)-[:IN_CATEGORY {attention: 0.7}]->(so), (nh)-[:IN_CATEGORY {attention: 1.0}]->(rom),
       (alien)-[:DIRECTED_BY {attention: 0.6}]->(scott), (br)-[:DIRECTED_BY {attention: 0.4}]->(scott)
CREATE (u1)-[:INTERACTED {weight: 5.0, rating: 5.0, attention: 0.7}]->(alien),
       (u1)-[:INTERACTED {weight: 5.0, rating: 5.0, attention: 0.3}]->(br),
       (u2)-[:INTERACTED {weight: 4.0, rating: 4.0, attention: 0.5}]->(alien),
       (u2)-[:INTERACTED {weight: 5.0, rating: 5.0, attention: 0.5}]->(dune),
       (u3)-[:INTERACTED {weight: 3.0, rating: 3.0, attention: 1.0}]->(alien)
CREATE (:Model {version: 'v2', active: true, trained_at: datetime('2026-11-01T10:00:00Z'),
                embedding_property: 'embedding', attention_property: 'attention',
                item_index: 'item_embedding', user_index: 'user_embedding',
                params: '{"dim": 4}', metrics: '{"ndcg@20": 0.5}'}),
       (:Model {version: 'v1', active: false})
CREATE (u1)-[:RECOMMENDED {model: 'v2', rank: 1, score: 0.9}]->(dune),
       (u1)-[:RECOMMENDED {model: 'v2', rank: 2, score: 0.2}]->(nh),
       (u1)-[:RECOMMENDED {model: 'v1', rank: 1, score: 0.8}]->(nh)
