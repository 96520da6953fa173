"""Poll day: turnout rounds from every booth, plausibility checks, booths gone silent."""
