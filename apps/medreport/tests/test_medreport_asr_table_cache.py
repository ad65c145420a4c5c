"""Tables cached by content: built once, rebuilt when an input or the file changes, never worse than building."""

import numpy as np
import pytest
from boya_medreport.asr.table_cache import cached_arrays, content_key
from boya_medreport.asr.whisper_decode import tokenizer_word_classes, word_classes
from boya_medreport.asr.whisper_draft import NgramDrafter, dictation_drafter
from tokenizers import Tokenizer, models, pre_tokenizers


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BOYA_CACHE_DIR", str(tmp_path))
    return tmp_path / "medreport" / "tables"


def test_a_table_is_built_once_and_read_back(cache):
    builds = []

    def build():
        builds.append(1)
        return {"a": np.arange(5), "b": np.eye(2)}

    first = cached_arrays("t", "k1", build)
    second = cached_arrays("t", "k1", build)
    assert len(builds) == 1
    assert second.keys() == first.keys() and all(np.array_equal(first[k], second[k]) for k in first)
    cached_arrays("t", "k2", build)  # another key: another table
    assert len(builds) == 2
    assert sorted(p.name for p in cache.iterdir()) == ["t-k1.npz", "t-k2.npz"]  # no staging files left


def test_a_damaged_or_unwritable_cache_only_costs_the_build(cache, tmp_path, monkeypatch):
    cached_arrays("t", "k", lambda: {"a": np.arange(3)})
    (cache / "t-k.npz").write_bytes(b"not a zip")
    assert cached_arrays("t", "k", lambda: {"a": np.arange(4)})["a"].tolist() == [0, 1, 2, 3]
    assert cached_arrays("t", "k", lambda: {"a": np.arange(9)})["a"].tolist() == [0, 1, 2, 3]  # rewritten
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache directory would go")
    monkeypatch.setenv("BOYA_CACHE_DIR", str(blocked))
    assert cached_arrays("t", "k", lambda: {"a": np.arange(2)})["a"].tolist() == [0, 1]


def test_the_key_follows_file_contents_and_parameters(tmp_path):
    file = tmp_path / "tokenizer.json"
    file.write_text("one")
    key = content_key(file, "300 0")
    assert content_key(file, "300 0") == key
    assert content_key(file, "300 1") != key
    file.write_text("two")
    assert content_key(file, "300 0") != key
    assert content_key("ab", "c") != content_key("a", "bc")  # parts are length-prefixed


@pytest.fixture
def word_tokenizer(tmp_path):
    """A word-level tokenizer of the generator's words, saved as a tokenizer.json."""
    import random

    from boya_medreport.dictations import dictation

    rng = random.Random(3)
    words = {w for _ in range(200) for w in dictation(rng, "train", spoken=True)["dictation"].split()}
    vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(sorted(words))}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    return tokenizer, path


def test_the_cached_drafter_and_word_classes_equal_freshly_built_ones(cache, word_tokenizer):
    tokenizer, path = word_tokenizer
    built = dictation_drafter(tokenizer, path, count=20)
    assert len(built.table) > 100
    read = dictation_drafter(tokenizer, path, count=20)
    assert read.table == built.table and isinstance(read, NgramDrafter)
    assert dictation_drafter(tokenizer, path, count=21).table != built.table  # a parameter is in the key
    size = tokenizer.get_vocab_size() + 3  # padded ids the tokenizer does not name
    expected = word_classes(tokenizer.get_vocab(with_added_tokens=True), size)
    assert tokenizer_word_classes(tokenizer, path, size).tolist() == expected.tolist()
    assert tokenizer_word_classes(tokenizer, path, size).tolist() == expected.tolist()  # from the cache
    assert len(list(cache.glob("*.npz"))) == 3
