"""Reading specs: DOT text, documents that embed digraphs, labels, formulas and sizes."""
