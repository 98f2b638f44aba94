"""Golden-output tests: extractor outputs held as digests next to their implementation versions."""
