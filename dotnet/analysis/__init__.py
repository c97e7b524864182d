"""Analysis: the graph model, shape inference, blocks and name resolution."""
