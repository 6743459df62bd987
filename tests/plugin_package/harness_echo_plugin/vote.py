from harness.voting import Electorate


def vote_last(ballot):
    """The last sample decides alone."""
    return Electorate(eligible=[len(ballot.keys) - 1])
