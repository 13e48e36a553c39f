"""A fixture's facts: the "key value" lines it writes about itself while
building its structures (sizeof, offsetof, addresses, its own counts).
They are the answer key of the integration tests."""


def read_facts(path):
    """The facts file at path as a dict (a key written twice: the last)."""
    facts = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            key, _, value = line.rpartition(" ")
            facts[key] = value
    return facts


def fact_words(path):
    """The words of each line of a facts file that has any."""
    with open(path) as f:
        for line in f:
            words = line.split()
            if words:
                yield words


def read_block_key(path):
    """A key of blocks (leakkey.h, allockey.h): (the words after "block"
    of each block line, {first word: the others} of every other line
    (a key written twice: the last))."""
    blocks, other = [], {}
    for w in fact_words(path):
        if w[0] == "block":
            blocks.append(w[1:])
        else:
            other[w[0]] = w[1:]
    return blocks, other
