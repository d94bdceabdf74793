"""Explanations phrased by a language model, accepted only when every fact in the phrase is a
fact of the graph path it phrases.

The path's facts (:mod:`.facts`) go to a chat model as structured input with one example per
path shape (:mod:`.prompt`); the model's sentence is shown only if :mod:`.verify` finds nothing
beyond those facts, else the template sentence is, with the reason. Backends
(:mod:`.backends`): any OpenAI-compatible chat endpoint, or the small model bundled by the
optional ``llm`` extra. :mod:`.phraser` ties them together with a cache and a time budget.
"""
