"""Code generation: lowering analysed graphs to class plans, scans, and Python source."""
