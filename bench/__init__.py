"""`make bench`: each figure beside a baseline measured in the same run (the bare library doing the same work)."""
