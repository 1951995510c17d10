"""Sentence embeddings do not depend on the machine: the same text gets the same bits whatever
the BLAS thread count and whatever else is in its batch. Batch composition and thread count
change the order of BLAS sums just as another CPU kernel does, so they stand in for another
machine here (OPENBLAS_CORETYPE is never touched)."""
from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from xitu.vectorise import USEEncoder

TEXTS = [
    "China's commerce ministry said exports of rare-earth magnets rose after the Busan truce.",
    "Japan and Australia signed a critical-minerals framework to fund Lynas's heavy rare earths.",
    "中国商务部宣布对七种中重稀土实施出口管制。",
    "美國國防部入股MP Materials，以確保稀土磁體供應。",
    "The EU Critical Raw Materials Act sets a 10% domestic extraction benchmark by 2030.",
    "包头白云鄂博矿是世界最大的稀土矿。",
] * 4 + [f"Filler sentence number {i} about licences, quotas and prices of dysprosium." for i in range(40)]


def _alone_and_batched(encoder):
    batched = encoder.encode(TEXTS)
    alone = np.vstack([encoder.encode([t]) for t in TEXTS[:8]])
    with threadpool_limits(1):
        one_thread = encoder.encode(TEXTS[::-1])[::-1]
    return batched, alone, one_thread


def test_default_encoder_gives_the_same_bits_alone_in_any_batch_and_any_thread_count():
    batched, alone, one_thread = _alone_and_batched(USEEncoder(threads=2))
    assert batched.dtype == np.float32
    assert np.array_equal(batched[:8], alone)
    assert np.array_equal(batched, one_thread)


def test_the_check_can_fail_float32_as_shipped_differs_in_the_last_bits():
    """The control: the package's float32 forward pass is not batch-invariant, so the test
    above would catch a return to it."""
    batched, alone, _ = _alone_and_batched(USEEncoder(threads=2, precision="float32"))
    assert not np.array_equal(batched[:8], alone)
    assert np.abs(batched[:8] - alone).max() < 1e-5  # the same vectors up to rounding


def test_float64_and_float32_vectors_agree_up_to_rounding():
    a = USEEncoder(precision="float64").encode(TEXTS[:6])
    b = USEEncoder(precision="float32").encode(TEXTS[:6])
    assert np.abs(a - b).max() < 1e-5
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision"):
        USEEncoder(precision="float16")
