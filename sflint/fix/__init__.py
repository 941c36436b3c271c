"""Fixes: minimal, byte-exact edits to permission metadata, and safe writing.

One module per job, in the order a fix goes through them:

* :mod:`sflint.fix.values`: the values passed around (edits, plans, refusals, errors);
* :mod:`sflint.fix.scan`: the byte-offset scanner and the independent re-parse check;
* :mod:`sflint.fix.ops`: pure operations on file bytes (disable, clone, clone names);
* :mod:`sflint.fix.plan`: which files to touch for a set of findings (``--fix``, SARIF);
* :mod:`sflint.fix.diff`: ``--diff`` output and byte replacements;
* :mod:`sflint.fix.write`: atomic writing, a unit (a clone and the edits that point at it)
  whole or not at all, with its refusals.

Nothing here imports :mod:`sflint.output`; outputs import :mod:`sflint.fix.values`. This
file imports nothing, so that an output needing only the values never loads lxml.
"""
