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
