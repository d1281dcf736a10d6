"""From score curves to spotted intervals: proposals (step 1), merge (step 2), classical curve."""
