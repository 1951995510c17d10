"""Topic models of the coverage: BERTopic on bilingual segments, LDA and NMF baselines on the
same tokens, and the quality measures of the BERTopic paper.

Everything is explicit and seeded (:class:`TopicSettings`); a fit is a pure function of the
documents, the settings and the seed, so the same inputs give the same topic assignments.

BERTopic, as used here
----------------------
* **Embeddings** (offline by default): TF-IDF over :class:`xitu.text.Tokenizer` tokens, then
  :class:`VocabSVD` — a truncated SVD whose size is capped by the vocabulary and the number of
  documents — and L2 normalisation (latent semantic analysis). Optional:
  sentence-transformers loaded from a local model folder only (:func:`load_sentence_transformer`),
  never from a hub.
* **UMAP** (``n_neighbors=15``, 5 components, ``min_dist=0``, cosine, ``random_state=seed``)
  and **HDBSCAN** (``min_cluster_size`` scaled to the corpus, see
  :meth:`TopicSettings.resolved`). Identical texts are embedded once and identical
  embeddings are merged before UMAP (``UMAP(unique=True)``): duplicates otherwise make UMAP
  place copies of one point in different regions and its result depend on their order.
* **c-TF-IDF** through ``CountVectorizer(tokenizer=Tokenizer())``, so jieba's Chinese words
  reach the topic representation, and ``language=None`` so that BERTopic's English-only text
  cleaning (which deletes every non-ASCII character) is never applied.
* **Outliers** (HDBSCAN's topic ``-1``) are reassigned to the nearest topic embedding when
  their cosine similarity is at least ``outlier_threshold``; a model without outliers is left
  as it is (BERTopic raises on it). The topic words are then recomputed with the same
  vectorizer (``update_topics`` otherwise falls back to an English ``CountVectorizer``).
* **Topics over time**: BERTopic 0.17.4 passes ``infer_datetime_format`` to
  ``pd.to_datetime``, which pandas 3 removed, so :func:`topics_over_time` hands it real
  datetimes; undated documents are reported, not dropped silently.

Quality (as in Grootendorst 2022, via OCTIS): NPMI coherence with gensim's
``CoherenceModel(coherence="c_npmi", topn=10)`` over the tokenised documents, outlier topic
excluded; topic diversity = unique words / all words in the top 10 of every topic; plus the
share of outlier documents. :func:`compare_models` fits BERTopic, LDA and NMF for several
seeds and :func:`summarise_comparison` gives mean and standard deviation.
"""

from xitu.topics.model import *  # noqa: F401,F403
from xitu.topics.model import (VocabSVD, default_model_dir, load_sentence_transformer,  # noqa: F401
                               make_vectorizer, tfidf_svd_pipeline)
from xitu.topics.quality import *  # noqa: F401,F403
from xitu.topics.report import *  # noqa: F401,F403
