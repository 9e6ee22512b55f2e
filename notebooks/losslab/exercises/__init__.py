"""Self-checks for the notebooks' exercises, one module per notebook.

Every `check_...` function takes the learner's function, prints a verdict (what is right,
or specifically what is wrong and how to fix it) and returns True or False. It never
raises, so a notebook with unanswered exercises still runs top to bottom.
"""
