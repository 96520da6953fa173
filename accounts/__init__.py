"""War-room users: who may sign in, with which role, and their softphone credentials."""
