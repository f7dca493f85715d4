"""Course kit engine: builds the student and solution notebooks and grades submissions."""

import sys

__version__ = "0.1.0"

# nbformat imports jsonschema, which builds a parser for IRI strings with lark when the optional
# rfc3987_syntax is installed (Jupyter's own packages install it): 0.7 s of CPU in every grading
# process, for a string format that no notebook schema uses. Without it jsonschema skips that format.
sys.modules.setdefault("rfc3987_syntax", None)
