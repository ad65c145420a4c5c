"""The byte tokenizer of the core's ``text-lm`` models: token ids are the UTF-8 bytes of the text.

It offers the few methods generation needs (``encode``, ``decode``, pad/eos ids) with the same
names as a Hugging Face tokenizer, so both kinds can be passed where a tokenizer is expected.
"""


class ByteTokenizer:
    vocab_size = 256
    pad_token_id = 0  # NUL never occurs in text; padded positions are masked out anyway
    eos_token_id = (
        None  # a byte LM has no end-of-text token: generation stops on length, time or stop strings
    )

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        """Bytes back to text; a multi-byte character cut in the middle becomes U+FFFD."""
        return bytes(int(i) for i in ids).decode("utf-8", errors="replace")
